/** A Postgres WAL position such as `16/B374D848` as a comparable integer. */
export function parseLsn(lsn: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn);
  if (!match) {
    throw new Error(`not an LSN: ${lsn}`);
  }
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

export function isLsn(value: string): boolean {
  return /^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/.test(value);
}

/** true when `a` is at or past `b` */
export function lsnAtLeast(a: string, b: string): boolean {
  return parseLsn(a) >= parseLsn(b);
}

export function maxLsn(a: string | undefined, b: string): string {
  return a === undefined || parseLsn(b) > parseLsn(a) ? b : a;
}
