import { SpanKind, trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOnSampler,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace';
import Fastify, { type FastifyInstance } from 'fastify';
import { installServerSpans } from './server-spans';

const exporter = new InMemorySpanExporter();
// The SDK as telemetry.ts starts it (context manager, W3C propagation), with no instrumentation:
// the server span comes from the hooks under test. Parent-based, so a caller's sampled flag decides.
const sdk = new NodeSDK({
  sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
  spanProcessors: [new SimpleSpanProcessor({ exporter })],
  instrumentations: [],
  metricReaders: [],
  logRecordProcessors: [],
});

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

/**
 * The spans ended once `expected` have reached the exporter (the processor hands each over after a
 * turn of the loop, later on a loaded machine), or after 1 s; with 0 expected, after 100 ms.
 */
async function finished(
  expected: number,
): Promise<ReturnType<InMemorySpanExporter['getFinishedSpans']>> {
  const deadline = Date.now() + (expected === 0 ? 100 : 1_000);
  while (
    Date.now() < deadline &&
    (expected === 0 || exporter.getFinishedSpans().length < expected)
  ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return exporter.getFinishedSpans();
}

describe(installServerSpans.name, () => {
  let app: FastifyInstance;
  let activeInHandler: string | undefined;
  let traceInHandler: string | undefined;

  beforeAll(async () => {
    sdk.start();
    app = Fastify();
    installServerSpans(app, 'user');
    app.get('/api/users/:id', (_req, reply) => {
      activeInHandler = trace.getActiveSpan()?.spanContext().spanId;
      traceInHandler = trace.getActiveSpan()?.spanContext().traceId;
      return reply.send({ ok: true });
    });
    app.get('/api/boom', (_req, reply) => reply.code(503).send({}));
    app.get('/health/live', (_req, reply) => reply.send({}));
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await sdk.shutdown();
  });
  beforeEach(() => {
    exporter.reset();
    activeInHandler = traceInHandler = undefined;
  });

  it("makes one server span per request, named by its route, child of the caller's trace, active in the handler", async () => {
    const res = await app.inject({
      url: '/api/users/42?x=1',
      headers: { traceparent: `00-${TRACE}-${PARENT}-01`, 'x-request-id': 'edge-7' },
    });
    expect(res.statusCode).toBe(200);
    const spans = await finished(1);
    expect(spans).toHaveLength(1);
    const [span] = spans;
    expect(span).toMatchObject({ name: 'GET /api/users/:id', kind: SpanKind.SERVER });
    expect(span.spanContext().traceId).toBe(TRACE);
    expect(span.parentSpanContext?.spanId).toBe(PARENT);
    expect(activeInHandler).toBe(span.spanContext().spanId);
    expect(span.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/api/users/:id',
      'url.path': '/api/users/42',
      'http.response.status_code': 200,
      'murmur.request_id': 'edge-7',
    });
  });

  it('marks a 5xx as an error, and makes no span for probes', async () => {
    await app.inject({ url: '/api/boom' });
    await app.inject({ url: '/health/live' });
    const spans = await finished(1);
    expect(spans.map((s) => s.name)).toEqual(['GET /api/boom']);
    expect(spans[0].status.code).toBe(2); // SpanStatusCode.ERROR
  });

  it("follows a caller's decision not to sample: nothing recorded, the context still carried", async () => {
    await app.inject({ url: '/api/users/1', headers: { traceparent: `00-${TRACE}-${PARENT}-00` } });
    expect(await finished(0)).toEqual([]);
    // The handler (and the pg, Redis and gRPC calls under it) still run in the caller's trace.
    expect(traceInHandler).toBe(TRACE);
  });
});
