import { randomBytes } from 'node:crypto';
import { edgeApi, OtlpReceiver, TEST_OTLP_PORT, waitFor } from '@murmur/testing';

const api = edgeApi();
const CONSUMER = 5;
const SERVER = 2;

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

    // Each process exports on its own schedule: wait until every expected span has arrived.
    const expected: Array<[string, RegExp]> = [
      ['the server span of POST /api/posts', /^post-service kind=2 /m],
      ["the insert on the author's shard", /^post-service kind=3 .*INSERT INTO shard_\d\d\.posts/m],
      ['the BullMQ producer span', /^post-service kind=4 /m],
      ["the worker's consumer span", /^feed-worker kind=5 /m],
      ["the fan-out's Redis calls", /^feed-worker kind=3 (zadd|zremrangebyrank|sscan)/m],
    ];
    const describeTrace = (): string =>
      receiver
        .trace(traceId)
        .map(
          (s) =>
            `${s.service} kind=${s.kind} ${s.name} ${String(s.attributes['db.query.text'] ?? s.attributes['db.statement'] ?? '')}`,
        )
        .join('\n');
    await waitFor(
      () =>
        Promise.resolve(expected.every(([, re]) => re.test(describeTrace())) ? true : undefined),
      {
        timeoutMs: 15_000,
        what: 'every expected span of the trace',
      },
    ).catch(() => undefined);
    // One line per span, so a failure shows the whole trace.
    const trace = describeTrace();
    for (const [, re] of expected) {
      expect(trace).toMatch(re);
    }
    const spans = receiver.trace(traceId);
    expect(spans.every((s) => s.kind !== CONSUMER || s.service.endsWith('worker'))).toBe(true);
    // Every span hangs off another span of the trace but one: the post service's server span,
    // whose parent is the client's (in the traceparent header, never exported).
    const ids = new Set(spans.map((s) => s.spanId));
    const roots = spans.filter((s) => !ids.has(s.parentSpanId));
    expect(roots.map((s) => `${s.service} kind=${s.kind}`)).toEqual([
      `post-service kind=${SERVER}`,
    ]);
  });
});
