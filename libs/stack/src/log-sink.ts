import type { ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { LineSplitter, linePrefix, prettyLogLine } from './output';

/**
 * Where the output of the stack's processes goes: each process's log file (`<logDir>/<name>.log`,
 * as written: pino JSON) and, in the foreground (`echo`), our stdout, each line prefixed with the
 * process's name and one line per event (`prettyLogLine`).
 */
export class LogSink {
  private readonly streams = new Map<string, WriteStream>();

  constructor(
    private readonly logDir: string,
    private readonly echo: boolean,
    /** width of the name column */
    private readonly width: number,
    private readonly colour: boolean,
  ) {}

  file(name: string): string {
    return path.join(this.logDir, `${name}.log`);
  }

  /** Copy a child's piped stdout and stderr to its log (and to our stdout when echoing). */
  capture(name: string, proc: ChildProcess): void {
    let log = this.streams.get(name);
    if (!log) {
      log = createWriteStream(this.file(name), { flags: 'a' });
      this.streams.set(name, log);
    }
    const out = log;
    const prefix = linePrefix(name, this.width, this.colour);
    for (const stream of [proc.stdout, proc.stderr]) {
      const lines = new LineSplitter();
      const write = (batch: string[]): void => {
        if (batch.length > 0 && this.echo) {
          process.stdout.write(batch.map((l) => `${prefix}${prettyLogLine(l)}\n`).join(''));
        }
      };
      stream?.on('data', (chunk: Buffer) => {
        out.write(chunk);
        write(lines.push(chunk.toString()));
      });
      stream?.on('end', () => write(lines.flush()));
    }
  }

  close(): void {
    for (const log of this.streams.values()) {
      log.end();
    }
  }
}
