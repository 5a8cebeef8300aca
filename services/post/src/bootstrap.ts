import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { POST_GRPC_PACKAGE, POST_PROTO_PATH } from '@murmur/contracts';
import { startService } from '@murmur/http';
import type { Telemetry } from '@murmur/observability';
import { apiModule, workerModule } from './app.module';
import type { PostApiConfig, PostWorkerConfig } from './config';
import { grpcHost } from './grpc-host';

/** ids of up to 20 digits in a repeated string field: 64 KiB is room for 2,000 of them */
const GRPC_MAX_REQUEST_BYTES = 64 * 1024;

export const bootstrap = (config: PostApiConfig, telemetry: Telemetry): Promise<unknown> =>
  startService(apiModule(config), config, telemetry, async (app) => {
    // Same process, second transport: the feed hydrates timelines over gRPC (see docs/ARCHITECTURE.md).
    app.connectMicroservice<MicroserviceOptions>(
      {
        transport: Transport.GRPC,
        options: {
          package: POST_GRPC_PACKAGE,
          protoPath: POST_PROTO_PATH,
          url: `${grpcHost(config.GRPC_HOST)}:${config.GRPC_PORT}`,
          loader: { longs: String, keepCase: false, defaults: true },
          // The one call (GetPosts) takes at most MAX_IDS_PER_CALL decimal ids: a request larger
          // than this, or a flood of streams on one connection, is refused by the transport
          // before it costs the service anything.
          maxReceiveMessageLength: GRPC_MAX_REQUEST_BYTES,
          maxMetadataSize: 8 * 1024,
          channelOptions: { 'grpc.max_concurrent_streams': 256 },
        },
      },
      { inheritAppConfig: true },
    );
    await app.startAllMicroservices();
  });

/** The worker serves only health and metrics over HTTP. */
export const bootstrapWorker = (config: PostWorkerConfig, telemetry: Telemetry): Promise<unknown> =>
  startService(workerModule(config), config, telemetry);
