import { spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { POOLS, type EdgeConfig, type EdgeRateLimits } from '@murmur/stack';
import { startEdge, type StartedEdge } from '@murmur/testing';
import { describeWithTool } from './with-tool.spec-helper';

/** Specs that need a real NGINX run only where one is installed (npm test installs it as root). */
export const describeWithNginx = describeWithTool(
  spawnSync('nginx', ['-v'], { encoding: 'utf8' }).status === 0
    ? undefined
    : 'nginx is not installed (npm test installs it with apt-get when run as root: apt-get install nginx)',
);

/** A stub upstream's handler; `index` says which of the pool's servers got the request. */
export type StubHandler = (req: IncomingMessage, res: ServerResponse, index: number) => void;

export const answer200: StubHandler = (req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
};

export interface RunningEdge extends Omit<StartedEdge, 'stop'> {
  /** `127.0.0.1:<port>` of each stub server, in pool order */
  servers: string[];
  /** close stub server `index` (its port then refuses connections) */
  stopServer: (index: number) => Promise<void>;
}

export interface EdgeStub {
  handler?: StubHandler;
  maxConns?: number;
  /** stub servers per pool (the same servers in every pool) */
  servers?: number;
  /** more of the generated config: lb, edgeCache, compression, … */
  edge?: Partial<EdgeConfig>;
}

const closeServer = (u: Server): Promise<void> =>
  new Promise((resolve) => {
    if (!u.listening) {
      resolve();
      return;
    }
    u.closeAllConnections();
    u.close(() => resolve());
  });

/**
 * A real NGINX with the shared conf.d and the given limits on a free local port, every pool
 * pointing at stub upstreams (by default one, answering 200); runs `use`, then stops both.
 */
export async function withEdge(
  rateLimits: EdgeRateLimits,
  use: (edge: RunningEdge) => Promise<void>,
  stub: EdgeStub = {},
): Promise<void> {
  // Two servers per pool when asked, so that a retry to "the next server" is possible at all.
  const handler = stub.handler ?? answer200;
  const upstreams: Server[] = Array.from({ length: stub.servers ?? 1 }, (_, i) =>
    createServer((req, res) => handler(req, res, i)),
  );
  const servers: string[] = [];
  for (const u of upstreams) {
    await new Promise<void>((resolve) => u.listen(0, '127.0.0.1', resolve));
    servers.push(`127.0.0.1:${(u.address() as AddressInfo).port}`);
  }
  try {
    const edge = await startEdge({
      rateLimits,
      maxConns: stub.maxConns,
      pools: POOLS.map((name) => ({ name, servers })),
      ...stub.edge,
    });
    try {
      await use({ ...edge, servers, stopServer: (index) => closeServer(upstreams[index]) });
    } finally {
      await edge.stop();
    }
  } finally {
    await Promise.all(upstreams.map(closeServer));
  }
}
