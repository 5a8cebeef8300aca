import { createHttpApp } from '@murmur/http';
import type { Telemetry } from '@murmur/observability';
import { AppModule } from './app.module';
import type { UserConfig } from './config';

export async function bootstrap(config: UserConfig, telemetry: Telemetry): Promise<void> {
  await createHttpApp(AppModule.forRoot(config), {
    config,
    afterClose: () => telemetry.shutdown(),
  });
}
