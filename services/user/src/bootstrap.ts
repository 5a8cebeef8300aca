import { startService } from '@murmur/http';
import type { Telemetry } from '@murmur/observability';
import { apiModule } from './app.module';
import type { UserApiConfig } from './config';

export const bootstrap = (config: UserApiConfig, telemetry: Telemetry): Promise<unknown> =>
  startService(apiModule(config), config, telemetry);
