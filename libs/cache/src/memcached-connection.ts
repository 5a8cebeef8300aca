import { createConnection, type Socket } from 'node:net';

/** One item of a `get`/`gets` answer. */
export interface MemcachedItem {
  value: string;
  /** the item's CAS unique (only from `gets`) */
  cas?: string;
}

type Expect = 'line' | 'values' | 'stats';

interface Pending {
  expect: Expect;
  resolve: (answer: string | Map<string, MemcachedItem> | Map<string, string>) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  items: Map<string, MemcachedItem>;
  stats: Map<string, string>;
}

/**
 * `reply`: the node answered with an error (a bad key, a value too large): the node is fine.
 * `connection`: it could not be reached, or did not answer in time: the node may be down.
 */
export class MemcachedError extends Error {
  constructor(
    message: string,
    readonly kind: 'reply' | 'connection' = 'connection',
  ) {
    super(message);
  }
}

const CRLF = Buffer.from('\r\n');

/**
 * One pipelined connection to one memcached node over the classic text protocol (`get`, `gets`,
 * `add`, `cas`, `set`, `delete`, `stats`, `flush_all`, `version`). Answers come back in the order
 * the commands went out, so a queue of pending calls is the whole protocol state. Every call has
 * its own timeout; a timed-out call destroys the socket (a late answer would be read as the next
 * call's) and fails every call behind it, and the next call connects again.
 */
export class MemcachedConnection {
  private socket?: Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly pending: Pending[] = [];

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly timeoutMs: number,
  ) {}

  /** A storage or delete command (one answer line: STORED, NOT_STORED, EXISTS, DELETED …). */
  line(command: string, data?: string): Promise<string> {
    return this.send('line', command, data) as Promise<string>;
  }

  /** `get`/`gets` of keys: the items found, by key. */
  values(command: string): Promise<Map<string, MemcachedItem>> {
    return this.send('values', command) as Promise<Map<string, MemcachedItem>>;
  }

  /** `stats`, or a group of them (`stats slabs`): name → value. */
  stats(group?: string): Promise<Map<string, string>> {
    return this.send('stats', group ? `stats ${group}` : 'stats') as Promise<Map<string, string>>;
  }

  close(): void {
    this.fail(new MemcachedError(`${this.host}:${this.port}: connection closed`));
  }

  private send(
    expect: Expect,
    command: string,
    data?: string,
  ): Promise<string | Map<string, MemcachedItem> | Map<string, string>> {
    return new Promise((resolve, reject) => {
      const socket = this.connected();
      const timer = setTimeout(
        () => this.fail(new MemcachedError(`${this.where()}: no answer in ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      timer.unref();
      this.pending.push({ expect, resolve, reject, timer, items: new Map(), stats: new Map() });
      socket.write(data === undefined ? `${command}\r\n` : `${command}\r\n${data}\r\n`);
    });
  }

  private connected(): Socket {
    if (this.socket && !this.socket.destroyed) {
      return this.socket;
    }
    const socket = createConnection({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    // A socket that was dropped (a timeout) may still report: only the current one counts.
    const current = (): boolean => this.socket === socket;
    socket.on('data', (chunk: Buffer) => current() && this.read(chunk));
    socket.on('error', (error) => {
      if (current()) {
        this.fail(new MemcachedError(`${this.where()}: ${error.message}`));
      }
    });
    socket.on('close', () => {
      if (current()) {
        this.fail(new MemcachedError(`${this.where()}: connection closed`));
      }
    });
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    return socket;
  }

  /** Fail every call in flight and drop the socket: its stream can no longer be trusted. */
  private fail(error: Error): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(error);
    }
  }

  private read(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const head = this.pending[0];
      if (!head) {
        this.buffer = Buffer.alloc(0);
        return;
      }
      const eol = this.buffer.indexOf(CRLF);
      if (eol === -1) {
        return;
      }
      const line = this.buffer.toString('utf8', 0, eol);
      if (/^(ERROR|CLIENT_ERROR|SERVER_ERROR)/.test(line)) {
        this.buffer = this.buffer.subarray(eol + 2);
        this.settle((p) => p.reject(new MemcachedError(`${this.where()}: ${line}`, 'reply')));
        continue;
      }
      if (head.expect === 'line') {
        this.buffer = this.buffer.subarray(eol + 2);
        this.settle((p) => p.resolve(line));
        continue;
      }
      if (line === 'END') {
        this.buffer = this.buffer.subarray(eol + 2);
        this.settle((p) => p.resolve(p.expect === 'stats' ? p.stats : p.items));
        continue;
      }
      if (head.expect === 'stats') {
        const [, name = '', value = ''] = line.split(' ');
        head.stats.set(name, value);
        this.buffer = this.buffer.subarray(eol + 2);
        continue;
      }
      // VALUE <key> <flags> <bytes> [<cas unique>]\r\n<data>\r\n
      const [, key = '', , bytes = '0', cas] = line.split(' ');
      const end = eol + 2 + Number(bytes);
      if (this.buffer.length < end + 2) {
        return; // the data block has not all arrived yet
      }
      head.items.set(key, { value: this.buffer.toString('utf8', eol + 2, end), cas });
      this.buffer = this.buffer.subarray(end + 2);
    }
  }

  private settle(done: (p: Pending) => void): void {
    const p = this.pending.shift();
    if (p) {
      clearTimeout(p.timer);
      done(p);
    }
  }

  private where(): string {
    return `memcached ${this.host}:${this.port}`;
  }
}
