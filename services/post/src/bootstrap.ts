import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { POST_GRPC_PACKAGE, POST_PROTO_PATH } from '@murmur/contracts';
import { createHttpApp } from '@murmur/http';
import type { Telemetry } from '@murmur/observability';
import { AppModule, WorkerModule } from './app.module';
import type { PostConfig, PostWorkerConfig } from './config';

export async function bootstrap(config: PostConfig, telemetry: Telemetry): Promise<void> {
  await createHttpApp(AppModule.forRoot(config), {
    config,
    afterClose: () => telemetry.shutdown(),
    beforeListen: async (app) => {
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
    },
  });
}

/** The worker serves only health and metrics over HTTP. */
export async function bootstrapWorker(
  config: PostWorkerConfig,
  telemetry: Telemetry,
): Promise<void> {
  await createHttpApp(WorkerModule.forRoot(config), {
    config,
    afterClose: () => telemetry.shutdown(),
  });
}
