import { isIP } from 'node:net';

/** An IP address or a CIDR range (`10.244.0.0/16`, `fd00::/8`), as trusted-proxy lists take. */
export function isIpOrCidr(range: string): boolean {
  const [address, prefix, ...rest] = range.split('/');
  const family = isIP(address);
  const max = family === 4 ? 32 : 128;
  return (
    family !== 0 &&
    rest.length === 0 &&
    (prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= max))
  );
}
