// @ts-check
/**
 * What every scenario shares: the target, the load profile (`-e PROFILE=`) and the SLO thresholds.
 * Profiles are built per scenario so that each journey file stays a few lines long.
 */

export const BASE_URL = (__ENV.BASE_URL || 'http://localhost:8080').replace(/\/$/, '');
export const PROFILE = __ENV.PROFILE || 'smoke';

/** Endpoint tags: every request carries one, so each endpoint gets its own threshold and figures. */
export const ENDPOINTS = /** @type {const} */ ([
  'signup',
  'login',
  'profile',
  'profile_update',
  'follow',
  'unfollow',
  'post_create',
  'post_read',
  'author_posts',
  'like',
  'unlike',
  'feed',
  'leaderboard',
]);

/**
 * One scenario for the chosen profile. Load and stress use arrival-rate executors, so a slow
 * system meets the same offered load instead of quietly receiving less (closed-model bias).
 * `rate` is iterations per second at the profile's nominal level; RATE= overrides it.
 * @param {string} exec name of the exported function to run
 * @param {number} rate nominal iterations per second for load
 * @returns {import('k6/options').Scenario}
 */
export function scenarioFor(exec, rate) {
  const r = Number(__ENV.RATE || rate);
  const maxVUs = Number(__ENV.MAX_VUS || Math.max(50, r * 4));
  switch (PROFILE) {
    case 'smoke':
      return {
        executor: 'shared-iterations',
        exec,
        vus: 1,
        iterations: Number(__ENV.ITERATIONS || 5),
      };
    case 'load':
      return {
        executor: 'constant-arrival-rate',
        exec,
        rate: r,
        timeUnit: '1s',
        duration: __ENV.DURATION || '5m',
        preAllocatedVUs: Math.ceil(maxVUs / 2),
        maxVUs,
      };
    case 'stress':
      return {
        executor: 'ramping-arrival-rate',
        exec,
        startRate: Math.ceil(r / 2),
        timeUnit: '1s',
        preAllocatedVUs: maxVUs,
        maxVUs: maxVUs * 4,
        stages: [
          { target: r, duration: '2m' },
          { target: r * 2, duration: '3m' },
          { target: r * 4, duration: '3m' },
          { target: r * 6, duration: '3m' },
          { target: 0, duration: '1m' },
        ],
      };
    case 'spike':
      return {
        executor: 'ramping-vus',
        exec,
        startVUs: 1,
        stages: [
          { target: 5, duration: '30s' },
          { target: maxVUs * 2, duration: '10s' },
          { target: maxVUs * 2, duration: '1m' },
          { target: 5, duration: '10s' },
          { target: 5, duration: '1m' },
        ],
      };
    case 'soak':
      return {
        executor: 'constant-vus',
        exec,
        vus: Number(__ENV.VUS || 20),
        duration: __ENV.DURATION || '2h',
      };
    default:
      throw new Error(`unknown PROFILE "${PROFILE}" (smoke|load|stress|spike|soak)`);
  }
}

/**
 * The SLOs as thresholds: under 1% failures, p95 under 200 ms overall and per endpoint, feed reads
 * p95 under 50 ms. Sign-up and log-in hash with argon2id on purpose, so they get 500 ms.
 * Thresholds on every endpoint tag also make k6 print each endpoint's own figures.
 * @param {readonly string[]} endpoints the endpoint tags this scenario uses
 * @returns {Record<string, string[]>}
 */
export function thresholdsFor(endpoints) {
  /** @type {Record<string, string[]>} */
  const t = {
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(95)<200'],
    checks: ['rate>0.99'],
  };
  for (const e of endpoints) {
    const p95 = e === 'feed' ? 50 : e === 'signup' || e === 'login' ? 500 : 200;
    t[`http_req_duration{endpoint:${e}}`] = [`p(95)<${p95}`];
    t[`http_req_failed{endpoint:${e}}`] = ['rate<0.01'];
  }
  return t;
}
