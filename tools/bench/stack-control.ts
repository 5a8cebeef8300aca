/**
 * The bench drives the dev stack itself: one restart per configuration, with the configuration's
 * switches in the environment (the supervisor passes them to every service), an OTLP sink that
 * stands in for Jaeger, and a wait for the likes write-behind to drain before a restart.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sumSamples } from '@murmur/observability';
import { buildTopology } from '@murmur/stack';

function bootstrap(args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/bootstrap.mjs', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(
            new Error(
              `stack ${args[0]} exited with ${code}:\n${output.split('\n').slice(-15).join('\n')}`,
            ),
          ),
    );
  });
}

/** Stop the dev stack and start it again with `env` (and services exporting to `otlp`). */
export async function restartStack(env: Record<string, string>, otlp?: string): Promise<number> {
  const started = Date.now();
  await bootstrap(['down'], {});
  await bootstrap(['up', ...(otlp ? ['--otlp', otlp] : [])], env);
  return (Date.now() - started) / 1000;
}

export const stopStack = (): Promise<void> => bootstrap(['down'], {});

/** Sum of a metric's samples on one process's /metrics. */
async function metricOn(
  port: number,
  name: string,
  labels: Record<string, string | readonly string[]> = {},
): Promise<number> {
  return sumSamples(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), name, labels);
}

/**
 * Wait until the workers are idle: no queued, running or delayed jobs (fan-out, scores, like
 * flushes) and no like written behind but not yet flushed. A configuration's backlog must not run
 * into the next one's measurements, and the likes mode must not change under unflushed changes
 * (docs/patterns/write-behind-likes.md). Returns the seconds it took.
 */
export async function drainWorkers(timeoutMs = 180_000): Promise<number> {
  const workers = buildTopology({ profile: 'dev' }).services.filter((s) => s.entry === 'worker');
  const started = Date.now();
  for (;;) {
    const backlog = await Promise.all(
      workers.map(async (w) => {
        const jobs = await metricOn(w.port, 'murmur_queue_depth', {
          state: ['waiting', 'active', 'delayed'],
        });
        const likes = await metricOn(w.port, 'murmur_likes_pending_posts');
        return jobs + likes;
      }),
    ).then(
      (xs) => xs.reduce((a, b) => a + b, 0),
      () => NaN,
    );
    // the depth gauge is polled every 2 s: wait past one poll before trusting a zero
    if (backlog === 0 && Date.now() - started > 2_500) {
      return (Date.now() - started) / 1000;
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`workers still busy after ${timeoutMs / 1000} s (backlog ${backlog})`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Accepts OTLP/HTTP exports and counts them, as Jaeger's collector would take them. */
export class OtlpSink {
  requests = 0;
  bytes = 0;
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      req.on('data', (c: Buffer) => (this.bytes += c.length));
      req.on('end', () => {
        this.requests++;
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }
}
