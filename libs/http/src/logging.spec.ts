import Fastify, { type FastifyInstance } from 'fastify';
import { installRequestLogging, MurmurLogger } from './logging';

function capture(level = 'info'): { logger: MurmurLogger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = {
    write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>),
  };
  return { logger: new MurmurLogger({ appName: 'user-1', level }, destination), lines };
}

describe('request logging', () => {
  async function app(logger: MurmurLogger): Promise<FastifyInstance> {
    const fastify = Fastify();
    installRequestLogging(fastify, logger.pino);
    fastify.get('/ok', (_req, reply) => reply.send({ ok: true }));
    fastify.get('/missing', (_req, reply) => reply.code(404).send({}));
    fastify.get('/boom', (_req, reply) => reply.code(503).send({}));
    fastify.get('/health/ready', (_req, reply) => reply.code(503).send({}));
    await fastify.ready();
    return fastify;
  }

  it('writes nothing for a success or a probe, one line for a failure', async () => {
    const { logger, lines } = capture();
    const fastify = await app(logger);
    await fastify.inject({ url: '/ok' });
    await fastify.inject({ url: '/health/ready' });
    expect(lines).toEqual([]);
    await fastify.inject({ url: '/missing?x=1', headers: { 'x-request-id': 'edge-1' } });
    await fastify.inject({ url: '/boom', headers: { 'x-request-id': 'x'.repeat(200) } });
    expect(lines).toMatchObject([
      {
        level: 30,
        name: 'user-1',
        msg: 'request completed',
        req: { id: 'edge-1', method: 'GET', url: '/missing?x=1' },
        res: { statusCode: 404 },
      },
      { level: 50, msg: 'request errored', res: { statusCode: 503 } },
    ]);
    // An over-long request id from a client is not copied into the logs.
    expect((lines[1].req as { id: string }).id).not.toHaveLength(200);
    expect(typeof lines[0].responseTime).toBe('number');
    await fastify.close();
  });

  it('writes nothing at all when the level is silent', async () => {
    const { logger, lines } = capture('silent');
    const fastify = await app(logger);
    await fastify.inject({ url: '/boom' });
    logger.error('bad', 'stack', 'Ctx');
    expect(lines).toEqual([]);
    await fastify.close();
  });
});

describe(MurmurLogger.name, () => {
  it("writes Nest's calls as pino lines with the context, a stack, or an error", () => {
    const { logger, lines } = capture('debug');
    logger.log('listening on 3101', 'Bootstrap');
    logger.error('failed', 'Error: failed\n    at x', 'ProblemJson');
    logger.warn(new Error('dependency down'), 'Cache');
    logger.debug({ msg: 'detail', key: 'k' }, 'Cache');
    logger.verbose('not at debug');
    expect(lines).toMatchObject([
      { level: 30, context: 'Bootstrap', msg: 'listening on 3101' },
      { level: 50, context: 'ProblemJson', msg: 'failed', stack: 'Error: failed\n    at x' },
      { level: 40, context: 'Cache', msg: 'dependency down', err: { message: 'dependency down' } },
      { level: 20, context: 'Cache', msg: 'detail', key: 'k' },
    ]);
    expect(lines).toHaveLength(4);
  });
});
