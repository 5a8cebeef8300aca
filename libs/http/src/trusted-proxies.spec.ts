import { trustedProxies } from './trusted-proxies';

describe(trustedProxies.name, () => {
  it('trusts a peer in the ranges for at most the configured hops', () => {
    const trust = trustedProxies(1, ['127.0.0.1/32', '10.244.0.0/16']);
    expect(trust('127.0.0.1', 0)).toBe(true);
    expect(trust('10.244.3.7', 0)).toBe(true);
    expect(trust('::ffff:10.244.3.7', 0)).toBe(true);
    // one hop only: the proxy's own X-Forwarded-For entry is the client, never trusted further
    expect(trust('10.244.3.7', 1)).toBe(false);
  });

  it('does not trust a peer outside the ranges, so its X-Forwarded-For is ignored', () => {
    const trust = trustedProxies(2, ['127.0.0.1/32', '::1']);
    expect(trust('127.0.0.2', 0)).toBe(false);
    expect(trust('10.1.2.3', 0)).toBe(false);
    expect(trust('::2', 0)).toBe(false);
    expect(trust('::1', 1)).toBe(true);
  });
});
