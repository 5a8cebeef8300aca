import { BlockList, isIPv4 } from 'node:net';

/**
 * Fastify's `trustProxy` as a function: a hop of X-Forwarded-For is believed only when the
 * address it came from (the socket's peer, then each proxy in turn) is one of the configured
 * proxy ranges, and at most `hops` of them. Any other peer's X-Forwarded-For is ignored, so a
 * client that connects to a service directly is counted under its own address.
 */
export function trustedProxies(
  hops: number,
  ranges: readonly string[],
): (address: string, hop: number) => boolean {
  const list = new BlockList();
  for (const range of ranges) {
    const [address, prefix] = range.split('/');
    const family = isIPv4(address) ? 'ipv4' : 'ipv6';
    if (prefix === undefined) {
      list.addAddress(address, family);
    } else {
      list.addSubnet(address, Number(prefix), family);
    }
  }
  return (address, hop) => {
    if (hop >= hops) {
      return false;
    }
    // An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d.
    const plain =
      address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
    return list.check(plain, isIPv4(plain) ? 'ipv4' : 'ipv6');
  };
}
