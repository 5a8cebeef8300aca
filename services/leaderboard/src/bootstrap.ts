import { createHttpApp } from '@murmur/http';
import type { Telemetry } from '@murmur/observability';
import { AppModule, WorkerModule } from './app.module';
import type { LeaderboardConfig } from './config';

export async function bootstrap(config: LeaderboardConfig, telemetry: Telemetry): Promise<void> {
  await createHttpApp(AppModule.forRoot(config), {
    config,
    afterClose: () => telemetry.shutdown(),
  });
}

/** The worker serves only health and metrics over HTTP. */
export async function bootstrapWorker(
  config: LeaderboardConfig,
  telemetry: Telemetry,
): Promise<void> {
  await createHttpApp(WorkerModule.forRoot(config), {
    config,
    afterClose: () => telemetry.shutdown(),
  });
}
