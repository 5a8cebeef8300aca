/** A one-line progress bar on stderr; on a non-terminal it prints every 10% instead. */
export class Progress {
  private done = 0;
  private lastDecile = -1;
  private readonly started = Date.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.render();
  }

  /** how many are done so far */
  get count(): number {
    return this.done;
  }

  tick(n = 1): void {
    this.done = Math.min(this.total, this.done + n);
    this.render();
  }

  finish(): number {
    this.done = this.total;
    this.render(true);
    return Date.now() - this.started;
  }

  private render(final = false): void {
    const ratio = this.total === 0 ? 1 : this.done / this.total;
    const secs = ((Date.now() - this.started) / 1000).toFixed(1);
    const text = `${this.label.padEnd(20)} ${this.done}/${this.total} ${(ratio * 100).toFixed(0)}% ${secs}s`;
    if (this.out.isTTY) {
      const width = 30;
      const filled = Math.round(ratio * width);
      this.out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`);
      if (final) {
        this.out.write('\n');
      }
      return;
    }
    const decile = Math.floor(ratio * 10);
    if (decile !== this.lastDecile) {
      this.lastDecile = decile;
      this.out.write(`${text}\n`);
    }
  }
}
