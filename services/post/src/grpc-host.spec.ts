import { grpcHost } from './grpc-host';

describe(grpcHost.name, () => {
  it('brackets an IPv6 address and leaves names, IPv4 and bracketed ones alone', () => {
    expect(grpcHost('fd00:10:244::7')).toBe('[fd00:10:244::7]');
    expect(grpcHost('[::1]')).toBe('[::1]');
    expect(grpcHost('10.244.1.7')).toBe('10.244.1.7');
    expect(grpcHost('0.0.0.0')).toBe('0.0.0.0');
  });
});
