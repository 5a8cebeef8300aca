import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { POST_GRPC_PACKAGE, POST_PROTO_PATH } from '@murmur/contracts';
import { startService } from '@murmur/http';
import type { Telemetry } from '@murmur/observability';
import { apiModule, workerModule } from './app.module';
import type { PostApiConfig, PostWorkerConfig } from './config';

export const bootstrap = (config: PostApiConfig, telemetry: Telemetry): Promise<unknown> =>
  startService(apiModule(config), config, telemetry, async (app) => {
    // Same process, second transport: the feed hydrates timelines over gRPC (see docs/ARCHITECTURE.md).
    app.connectMicroservice<MicroserviceOptions>(
      {
        transport: Transport.GRPC,
        options: {
          package: POST_GRPC_PACKAGE,
          protoPath: POST_PROTO_PATH,
          url: `${config.GRPC_HOST}:${config.GRPC_PORT}`,
          loader: { longs: String, keepCase: false, defaults: true },
        },
      },
      { inheritAppConfig: true },
    );
    await app.startAllMicroservices();
  });

/** The worker serves only health and metrics over HTTP. */
export const bootstrapWorker = (config: PostWorkerConfig, telemetry: Telemetry): Promise<unknown> =>
  startService(workerModule(config), config, telemetry);
