/** An IPv6 address (GRPC_HOST set from the pod's IP) needs brackets in `host:port`. */
export const grpcHost = (host: string): string =>
  host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
