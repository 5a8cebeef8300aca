import {
  type GetPostsRequest,
  type GetPostsResponse,
  type GrpcPost,
  POST_GRPC_PACKAGE,
  POST_GRPC_SERVICE,
  POST_PROTO_PATH,
} from '@murmur/contracts';
import { freePort, waitFor } from '@murmur/testing';
import {
  type GrpcObject,
  loadPackageDefinition,
  type sendUnaryData,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceClientConstructor,
  status,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { PostClient, PostServiceUnavailable } from './post.client';

type GetPostsCall = ServerUnaryCall<GetPostsRequest, GetPostsResponse>;
type Behaviour = (call: GetPostsCall, reply: sendUnaryData<GetPostsResponse>) => void;

const post = (id: string): GrpcPost => ({
  id,
  authorId: `author-${id}`,
  text: `post ${id}`,
  createdAt: '2024-05-01T12:00:00.000Z',
  likeCount: Number(id) * 10,
});

const answer: Behaviour = (call, reply) => reply(null, { posts: call.request.ids.map(post) });

const failWith =
  (code: status): Behaviour =>
  (_call, reply) =>
    reply({ code, details: `failed with ${status[code]}` });

/**
 * A real gRPC server speaking the post service's proto on a local port, whose GetPosts the test
 * steers, counting every attempt that reaches it (a channel-level retry is a second attempt).
 */
class SteeredPostServer {
  behaviour: Behaviour = answer;
  attempts = 0;
  cancelled = 0;
  readonly retryHeaders: string[] = [];
  private readonly server = new Server();
  private readonly stalls = new Set<NodeJS.Timeout>();

  async start(): Promise<number> {
    const definition = loadPackageDefinition(
      loadSync(POST_PROTO_PATH, { keepCase: false, longs: String, defaults: true }),
    );
    const pkg = POST_GRPC_PACKAGE.split('.').reduce(
      (scope, name) => scope[name] as GrpcObject,
      definition,
    );
    const service = pkg[POST_GRPC_SERVICE] as ServiceClientConstructor;
    this.server.addService(service.service, {
      GetPosts: (call: GetPostsCall, reply: sendUnaryData<GetPostsResponse>) => {
        this.attempts += 1;
        const previous = call.metadata.get('grpc-previous-rpc-attempts')[0];
        this.retryHeaders.push(previous === undefined ? '' : String(previous));
        call.on('cancelled', () => {
          this.cancelled += 1;
        });
        this.behaviour(call, reply);
      },
    });
    const port = await freePort();
    await new Promise<void>((resolve, reject) =>
      this.server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    return port;
  }

  /** Answer normally, but only after `ms`; a call cancelled by its client drops its timer. */
  stallFor(ms: number): Behaviour {
    return (call, reply) => {
      const timer = setTimeout(() => {
        this.stalls.delete(timer);
        answer(call, reply);
      }, ms);
      this.stalls.add(timer);
      call.on('cancelled', () => {
        clearTimeout(timer);
        this.stalls.delete(timer);
      });
    };
  }

  reset(): void {
    this.behaviour = answer;
    this.attempts = 0;
    this.cancelled = 0;
    this.retryHeaders.length = 0;
  }

  stop(): void {
    this.stalls.forEach((timer) => clearTimeout(timer));
    this.server.forceShutdown();
  }
}

describe(`${PostClient.name} (real gRPC server)`, () => {
  const server = new SteeredPostServer();
  let port = 0;
  const clients: PostClient[] = [];

  /** A fresh client, so each test starts with a closed breaker and empty statistics. */
  const connect = (timeoutMs = 2_000): PostClient => {
    const client = new PostClient({ url: `ipv4:127.0.0.1:${port}`, timeoutMs });
    client.onModuleInit();
    clients.push(client);
    return client;
  };

  const rejection = async (promise: Promise<unknown>): Promise<PostServiceUnavailable> => {
    try {
      await promise;
    } catch (error) {
      expect(error).toBeInstanceOf(PostServiceUnavailable);
      return error as PostServiceUnavailable;
    }
    throw new Error('expected getPosts to reject, but it resolved');
  };

  /** Ten failed calls: the volume threshold, all errors (100% > 50%). */
  const openBreaker = async (client: PostClient): Promise<void> => {
    server.behaviour = failWith(status.INTERNAL);
    for (let i = 1; i <= 9; i += 1) {
      expect((await rejection(client.getPosts([String(i)]))).reason).toBe('call_failed');
    }
    // The tenth failure trips the breaker; it did reach the server, so it is a failed call.
    expect((await rejection(client.getPosts(['10']))).reason).toBe('call_failed');
    expect(server.attempts).toBe(10);
  };

  beforeAll(async () => {
    port = await server.start();
  });

  beforeEach(() => server.reset());

  afterEach(() => {
    clients.splice(0).forEach((client) => client.onModuleDestroy());
  });

  afterAll(() => server.stop());

  it('returns the posts in the order asked, with every field decoded', async () => {
    const sut = connect();

    await expect(sut.getPosts(['3', '1', '2'])).resolves.toEqual([post('3'), post('1'), post('2')]);
    expect(server.attempts).toBe(1);
  });

  it('gives up on a stalled server at its deadline with call_failed, and cancels the call', async () => {
    const sut = connect(200);
    server.behaviour = server.stallFor(5_000);

    const started = Date.now();
    const error = await rejection(sut.getPosts(['1']));
    const elapsed = Date.now() - started;

    expect(error.reason).toBe('call_failed');
    expect(error.message).toMatch(/timeout/i);
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(2_000);
    // Unsubscribing at the deadline cancels the RPC, so the server stops working on it.
    await waitFor(() => Promise.resolve(server.cancelled === 1 ? true : undefined), {
      what: 'the server to see the call cancelled',
    });
  }, 10_000);

  it('opens the breaker after ten failures and then fails fast without calling the server', async () => {
    const sut = connect();
    await openBreaker(sut);

    // The server would answer now: any rejection comes from the open breaker.
    server.behaviour = answer;
    for (let i = 0; i < 5; i += 1) {
      expect((await rejection(sut.getPosts(['1']))).reason).toBe('circuit_open');
    }
    expect(server.attempts).toBe(10);
  });

  it('retries an UNAVAILABLE failure once on the channel, and the call succeeds', async () => {
    const sut = connect();
    server.behaviour = (call, reply) =>
      server.attempts === 1 ? failWith(status.UNAVAILABLE)(call, reply) : answer(call, reply);

    await expect(sut.getPosts(['4', '5'])).resolves.toEqual([post('4'), post('5')]);
    expect(server.attempts).toBe(2);
    // The second attempt is grpc-js's retry, not a second call by the client.
    expect(server.retryHeaders).toEqual(['', '1']);
  });

  it('does not retry an UNAVAILABLE failure a second time (maxAttempts 2)', async () => {
    const sut = connect();
    server.behaviour = failWith(status.UNAVAILABLE);

    expect((await rejection(sut.getPosts(['1']))).reason).toBe('call_failed');
    expect(server.attempts).toBe(2);
  });

  it('half-opens after the 5 s reset timeout and closes again on a good answer', async () => {
    const sut = connect();
    await openBreaker(sut);
    const openedAt = Date.now();
    server.behaviour = answer;

    const posts = await waitFor(
      () =>
        sut.getPosts(['7']).catch((error: PostServiceUnavailable) => {
          if (error.reason !== 'circuit_open') {
            throw error;
          }
          return undefined;
        }),
      { timeoutMs: 12_000, intervalMs: 100, what: 'the breaker to let a call through' },
    );

    expect(posts).toEqual([post('7')]);
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(4_500);
    // Only the trial call reached the server; its success closed the breaker for the next ones.
    expect(server.attempts).toBe(11);
    await expect(sut.getPosts(['8'])).resolves.toEqual([post('8')]);
    await expect(sut.getPosts(['9'])).resolves.toEqual([post('9')]);
    expect(server.attempts).toBe(13);
  }, 20_000);
});
