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
