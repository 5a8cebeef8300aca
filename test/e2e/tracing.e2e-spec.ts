import { randomBytes } from 'node:crypto';
import { edgeApi, OtlpReceiver, type ReceivedSpan, TEST_OTLP_PORT, waitFor } from '@murmur/testing';

const api = edgeApi();
const CONSUMER = 5;

describe('one trace follows a post from the edge to the fan-out', () => {
  const receiver = new OtlpReceiver();

  beforeAll(() => receiver.listen(TEST_OTLP_PORT));
  afterAll(() => receiver.close());

  it('holds the server span, the Postgres insert, the BullMQ producer and consumer spans and the fan-out’s Redis calls', async () => {
    const author = await api.newUser('trace');
    const follower = await api.newUser('tracef');
    await api.request('POST', `/api/users/${author.id}/follow`, { token: follower.token });

    // The client starts the trace (as a browser or k6 would) and NGINX passes it on.
    const traceId = randomBytes(16).toString('hex');
    const created = await api.request('POST', '/api/posts', {
      token: author.token,
      body: { text: 'traced' },
      headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    });
    expect(created.status).toBe(201);

    const has = (spans: ReceivedSpan[], pred: (s: ReceivedSpan) => boolean): boolean =>
      spans.some(pred);
    const spans = await waitFor(
      () => {
        const t = receiver.trace(traceId);
        return Promise.resolve(
          has(t, (s) => s.service === 'feed-worker' && s.kind === CONSUMER) &&
            has(t, (s) => s.service === 'feed-worker' && /zadd/i.test(s.name))
            ? t
            : undefined,
        );
      },
      { timeoutMs: 15_000, what: 'the fan-out spans to arrive' },
    );
    // One line per span, so a failure shows the whole trace.
    const lines = spans.map(
      (s) =>
        `${s.service} kind=${s.kind} ${s.name} ${String(s.attributes['db.query.text'] ?? s.attributes['db.statement'] ?? '')}`,
    );
    const trace = lines.join('\n');
    expect(trace).toMatch(/^post-service kind=2 /m); // the server span of POST /api/posts
    expect(trace).toMatch(/^post-service kind=3 .*INSERT INTO shard_\d\d\.posts/m); // the insert on the author's shard
    expect(trace).toMatch(/^post-service kind=4 /m); // the BullMQ producer span
    expect(trace).toMatch(/^feed-worker kind=5 /m); // the worker's consumer span
    expect(trace).toMatch(/^feed-worker kind=3 (zadd|zremrangebyrank|sscan)/m); // the fan-out's Redis calls
    // Every span hangs off another span of the trace, except the one the client started.
    const ids = new Set(spans.map((s) => s.spanId));
    expect(spans.filter((s) => !ids.has(s.parentSpanId)).length).toBeGreaterThanOrEqual(1);
  });
});
