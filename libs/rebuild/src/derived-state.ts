import {
  DERIVED_KEYS,
  type DerivedMarker,
  REBUILD_PHASES,
  type RebuildPhase,
} from '@murmur/contracts';
import type { Redis } from 'ioredis';

/**
 * What a reader may rely on in the data Redis right now: `ready` (the marker is there: the
 * derived state is complete), or not, with the phase of the rebuild under way (none yet when the
 * loss has just happened and no rebuild has started).
 */
export type DerivedStatus = { ready: true } | { ready: false; phase?: RebuildPhase };

/** Has the rebuild got past `phase` (so what that phase restores is whole again)? */
export function isPast(status: DerivedStatus, phase: RebuildPhase): boolean {
  if (status.ready) {
    return true;
  }
  return (
    status.phase !== undefined &&
    REBUILD_PHASES.indexOf(status.phase) > REBUILD_PHASES.indexOf(phase)
  );
}

/** A 'ready' answer is trusted this long in a process: one GET per second, not per request. */
const READY_CACHE_MS = 1_000;

/** Renew the lock if we still hold it. KEYS[1] lock; ARGV: owner, ttl ms. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** Release the lock if we still hold it. KEYS[1] lock; ARGV[1] owner. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * The derived-state marker, the rebuild's progress record and its lock, in the data Redis. The
 * marker disappears with everything else when that Redis is emptied (FLUSHALL, a lost volume, a
 * restart without persistence); its absence is how every process knows that timelines, graph
 * copies and boards are not to be trusted until a rebuild has run.
 */
export class DerivedState {
  private readyUntil = 0;

  constructor(
    private readonly redis: Redis,
    private readonly now: () => number = Date.now,
  ) {}

  async status(): Promise<DerivedStatus> {
    if (this.now() < this.readyUntil) {
      return { ready: true };
    }
    const [marker, phase] = await Promise.all([
      this.redis.get(DERIVED_KEYS.marker),
      this.redis.hget(DERIVED_KEYS.rebuild, 'phase'),
    ]);
    if (marker !== null) {
      this.readyUntil = this.now() + READY_CACHE_MS;
      return { ready: true };
    }
    const known = REBUILD_PHASES.find((p) => p === phase);
    return known === undefined ? { ready: false } : { ready: false, phase: known };
  }

  async marker(): Promise<DerivedMarker | undefined> {
    const raw = await this.redis.get(DERIVED_KEYS.marker);
    return raw === null ? undefined : (JSON.parse(raw) as DerivedMarker);
  }

  /** The derived state is complete: readers may trust it again. */
  async markComplete(by: DerivedMarker['by']): Promise<void> {
    const marker: DerivedMarker = { by, at: new Date(this.now()).toISOString() };
    await this.redis
      .multi()
      .set(DERIVED_KEYS.marker, JSON.stringify(marker))
      .del(DERIVED_KEYS.rebuild)
      .exec();
  }

  /** Take the rebuild lock for `ttlMs` (renewed while the rebuild runs); false if it is held. */
  async lock(owner: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(DERIVED_KEYS.lock, owner, 'PX', ttlMs, 'NX')) === 'OK';
  }

  /** Keep the lock; false if it was lost (it expired and another rebuild may have taken it). */
  async renew(owner: string, ttlMs: number): Promise<boolean> {
    return Number(await this.redis.eval(RENEW, 1, DERIVED_KEYS.lock, owner, ttlMs)) === 1;
  }

  async unlock(owner: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, DERIVED_KEYS.lock, owner);
  }

  /** Record the running rebuild's phase and progress (readers go by the phase). */
  async progress(
    owner: string,
    phase: RebuildPhase,
    done: number,
    total: number,
    startedAt: number,
  ): Promise<void> {
    await this.redis.hset(DERIVED_KEYS.rebuild, {
      owner,
      phase,
      done,
      total,
      startedAt: new Date(startedAt).toISOString(),
    });
  }

  /** The running rebuild's record (for `npm run rebuild -- --status` and tests). */
  async rebuildRecord(): Promise<Record<string, string>> {
    return this.redis.hgetall(DERIVED_KEYS.rebuild);
  }
}
