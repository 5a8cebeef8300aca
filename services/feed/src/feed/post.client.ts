import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { type ClientGrpc, ClientProxyFactory, Transport } from '@nestjs/microservices';
import {
  type GetPostsRequest,
  type GetPostsResponse,
  type GrpcPost,
  POST_GRPC_PACKAGE,
  POST_GRPC_SERVICE,
  POST_PROTO_PATH,
} from '@murmur/contracts';
import CircuitBreaker from 'opossum';
import { firstValueFrom, type Observable, timeout } from 'rxjs';
import { rpcClientDuration } from './feed.metrics';

interface PostServiceClient {
  getPosts(request: GetPostsRequest): Observable<GetPostsResponse>;
}

export interface PostClientOptions {
  /** gRPC target, e.g. `ipv4:127.0.0.1:3211,127.0.0.1:3212` or `dns:///post-grpc:50051` */
  url: string;
  timeoutMs: number;
}

export const POST_CLIENT_OPTIONS = Symbol('POST_CLIENT_OPTIONS');

export class PostServiceUnavailable extends Error {
  constructor(
    message: string,
    /** `circuit_open`: not asked at all; `call_failed`: asked, and it failed or timed out */
    readonly reason: 'circuit_open' | 'call_failed',
  ) {
    super(message);
  }
}

/**
 * The feed's client of the post service. gRPC over HTTP/2 with client-side round-robin over
 * every address the target resolves to, so calls spread over all post processes (a single
 * long-lived HTTP/2 connection would otherwise pin one). Each call has a deadline; a circuit
 * breaker stops calling a failing service for a while instead of queueing on it.
 */
@Injectable()
export class PostClient implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PostClient.name);
  private readonly client: ClientGrpc;
  private service!: PostServiceClient;
  private readonly breaker: CircuitBreaker<[string[]], GrpcPost[]>;

  constructor(@Inject(POST_CLIENT_OPTIONS) private readonly options: PostClientOptions) {
    this.client = ClientProxyFactory.create({
      transport: Transport.GRPC,
      options: {
        url: options.url,
        package: POST_GRPC_PACKAGE,
        protoPath: POST_PROTO_PATH,
        loader: { longs: String, keepCase: false, defaults: true },
        channelOptions: {
          // A call that fails with UNAVAILABLE (the post process it went to died, or its
          // connection dropped) is tried once more, on the next ready process, within the same
          // deadline: GetPosts only reads. Without it, the calls in flight to a killed process
          // all fail at once, open the breaker, and every feed is partial for its reset time
          // although the other processes answer (seen in `npm run chaos`).
          'grpc.service_config': JSON.stringify({
            loadBalancingConfig: [{ round_robin: {} }],
            methodConfig: [
              {
                name: [{ service: `${POST_GRPC_PACKAGE}.${POST_GRPC_SERVICE}` }],
                retryPolicy: {
                  maxAttempts: 2,
                  initialBackoff: '0.01s',
                  maxBackoff: '0.05s',
                  backoffMultiplier: 2,
                  retryableStatusCodes: ['UNAVAILABLE'],
                },
              },
            ],
          }),
          'grpc.keepalive_time_ms': 30_000,
        },
      },
    });
    this.breaker = new CircuitBreaker((ids: string[]) => this.call(ids), {
      timeout: false, // the call has its own deadline
      errorThresholdPercentage: 50,
      volumeThreshold: 10,
      resetTimeout: 5_000,
    });
    this.breaker.on('open', () => this.logger.warn('post service circuit open: failing fast'));
    this.breaker.on('close', () => this.logger.log('post service circuit closed'));
  }

  onModuleInit(): void {
    this.service = this.client.getService<PostServiceClient>(POST_GRPC_SERVICE);
  }

  /**
   * Open the channel (HTTP/2 connections to every post process) before serving, so the first
   * feed pages after a start do not pay for it. Outside the breaker: a post service that is not
   * up yet must not open it; the call is retried on demand as before.
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.call(['1']).catch(() => undefined);
  }

  onModuleDestroy(): void {
    this.breaker.shutdown();
    (this.client as unknown as { close?: () => void }).close?.();
  }

  /** Posts by id, in the order asked; ids of deleted posts are left out. */
  async getPosts(ids: string[]): Promise<GrpcPost[]> {
    if (ids.length === 0) {
      return [];
    }
    try {
      return await this.breaker.fire(ids);
    } catch (error) {
      // Opossum's own refusal while open (EOPENBREAKER): the service was not asked. A call that
      // failed, the one that trips the breaker included, was.
      throw (error as { code?: unknown }).code === 'EOPENBREAKER'
        ? new PostServiceUnavailable('post service circuit is open', 'circuit_open')
        : new PostServiceUnavailable(
            `post service call failed: ${(error as Error).message}`,
            'call_failed',
          );
    }
  }

  private async call(ids: string[]): Promise<GrpcPost[]> {
    const end = rpcClientDuration.startTimer({ method: 'PostService/GetPosts' });
    try {
      const response = await firstValueFrom(
        this.service.getPosts({ ids }).pipe(timeout(this.options.timeoutMs)),
      );
      end({ outcome: 'ok' });
      return response.posts ?? [];
    } catch (error) {
      end({ outcome: 'error' });
      throw error;
    }
  }
}
