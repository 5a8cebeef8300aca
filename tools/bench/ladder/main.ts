/**
 * One process of the cost ladder (ladder.module.ts), started by the bench with LADDER_STEP and a
 * service's environment: `nest`, `session` or `ratelimit`. Launched as every Murmur process is:
 * config validated, telemetry, then the app (loaded only after the SDK, so it is instrumented).
 */
import type { DynamicModule } from '@nestjs/common';
import { loadConfig } from '@murmur/config';
import { launch } from '@murmur/observability';
import { LADDER_CONFIGS, LADDER_STEPS, type LadderStep } from './ladder.config';

const step = (process.env.LADDER_STEP ?? 'nest') as LadderStep;
if (!LADDER_STEPS.includes(step)) {
  throw new Error(`LADDER_STEP must be one of ${LADDER_STEPS.join(', ')}, got "${step}"`);
}
const config = loadConfig(LADDER_CONFIGS[step].schema);
launch({
  config,
  defaultServiceName: `ladder-${step}`,
  start: async (telemetry) => {
    const [{ startService }, ladder] = await Promise.all([
      import('@murmur/http'),
      import('./ladder.module'),
    ]);
    // Each step's module takes its own config type; the config was validated by that step's schema.
    const modules: Record<LadderStep, (c: typeof config) => DynamicModule> = {
      nest: ladder.nestLadder,
      session: ladder.sessionLadder as (c: typeof config) => DynamicModule,
      ratelimit: ladder.rateLimitLadder as (c: typeof config) => DynamicModule,
    };
    return startService(modules[step](config), config, telemetry);
  },
});
