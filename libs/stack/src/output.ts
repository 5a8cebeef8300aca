/** Console output of the stack: the status table and name-prefixed child output. */

export interface ComponentStatus {
  name: string;
  role: string;
  port: number;
  pid: number | null;
  healthy: boolean;
}

export function formatTable(rows: ComponentStatus[]): string {
  const head = ['component', 'role', 'port', 'pid', 'healthy'];
  const body = rows.map((r) => [
    r.name,
    r.role,
    String(r.port),
    r.pid === null ? '-' : String(r.pid),
    r.healthy ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

const COLOURS = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96];

/** `name  | ` padded to a common width, coloured (stable per name) only when asked. */
export function linePrefix(name: string, width: number, colour: boolean): string {
  const label = name.padEnd(width);
  if (!colour) {
    return `${label} | `;
  }
  const code = COLOURS[[...name].reduce((h, c) => h + c.charCodeAt(0), 0) % COLOURS.length];
  return `\x1b[${code}m${label}\x1b[0m | `;
}

/**
 * Splits a child's output stream into whole lines, so that two children writing at once never
 * interleave inside a line. A trailing partial line waits for its end (or for `flush`).
 */
export class LineSplitter {
  private partial = '';

  push(chunk: string): string[] {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    return lines.map((l) => l.replace(/\r$/, ''));
  }

  flush(): string[] {
    const rest = this.partial;
    this.partial = '';
    return rest === '' ? [] : [rest];
  }
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
/** Fields a pino line always has, or that say nothing in a terminal. */
const QUIET_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'context', 'service']);

/**
 * A service's pino JSON line as one short line for the terminal: `info  [Context] message`,
 * plus the error and a few fields that matter. The log file keeps the JSON; a line that is not
 * pino JSON (Postgres, Redis, NGINX) passes unchanged.
 */
export function prettyLogLine(line: string): string {
  if (!line.startsWith('{')) {
    return line;
  }
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry.level !== 'number' || typeof entry.msg !== 'string') {
    return line;
  }
  const level = (LEVELS[entry.level] ?? String(entry.level)).padEnd(5);
  const context = typeof entry.context === 'string' ? `[${entry.context}] ` : '';
  const err = entry.err as { message?: unknown } | undefined;
  const extras = Object.entries(entry)
    .filter(
      ([k, v]) => !QUIET_FIELDS.has(k) && k !== 'err' && (typeof v !== 'object' || v === null),
    )
    .map(([k, v]) => `${k}=${String(v)}`);
  if (typeof err?.message === 'string') {
    extras.unshift(`error="${err.message}"`);
  }
  return `${level} ${context}${entry.msg}${extras.length > 0 ? `  ${extras.join(' ')}` : ''}`;
}
