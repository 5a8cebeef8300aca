import { entryPointConfig } from '@murmur/config';

/** The ladder steps' configs (no Nest here: main.ts loads this before telemetry starts). */
export const LADDER_CONFIGS = {
  nest: entryPointConfig([]),
  session: entryPointConfig(['sessions']),
  ratelimit: entryPointConfig(['sessions', 'rateLimits']),
} as const;

export type LadderStep = keyof typeof LADDER_CONFIGS;
export const LADDER_STEPS = Object.keys(LADDER_CONFIGS) as LadderStep[];
