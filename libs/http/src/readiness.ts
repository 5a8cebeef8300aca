/**
 * A dependency the readiness probe checks. A `critical` one failing makes the process unready
 * (503); a non-critical one (the L2 cache) only marks it degraded: it still serves, just slower.
 */
export interface ReadinessCheck {
  name: string;
  critical: boolean;
  check(): Promise<boolean>;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
