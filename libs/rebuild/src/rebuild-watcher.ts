import type { ReplicatedCluster } from '@murmur/database';
import { DerivedState } from './derived-state';
import { rebuildPhaseSeconds, rebuildsTotal } from './metrics';
import { RebuildLockHeld, Rebuilder, type RebuildOptions, type RebuildResult } from './rebuilder';

export interface WatcherLogger {
  log(message: string): void;
  warn(message: string): void;
}

export interface WatcherOptions extends Omit<RebuildOptions, 'onProgress'> {
  /** how often the marker is looked for */
  intervalMs: number;
  logger: WatcherLogger;
  /** called after a rebuild this watcher ran (metrics, tests) */
  onRebuilt?: (result: RebuildResult) => void;
}

/** No users in Postgres: nothing can be derived, so an empty data Redis is already complete. */
async function nothingToDerive(main: ReplicatedCluster): Promise<boolean> {
  const rows = await main.onPrimary((sql) =>
    sql.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM users) AS any'),
  );
  return rows[0]?.any !== true;
}

/**
 * Notices a data Redis that lost its derived state (no marker) and rebuilds it from Postgres,
 * in the background, while this process goes on with its jobs. Several processes may watch: the
 * rebuild lock lets one run, and a rebuild whose process died is taken over once its lock
 * expires. On a brand-new system (no users yet) it only sets the marker.
 */
export class RebuildWatcher {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly state: DerivedState;

  constructor(private readonly options: WatcherOptions) {
    this.state = new DerivedState(options.redis);
  }

  /** Check once now (awaited: a new system is marked before this process reports ready). */
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One look at the marker; starts a rebuild when it is missing and nobody is rebuilding. */
  async check(): Promise<void> {
    if (this.running) {
      return;
    }
    const { logger } = this.options;
    try {
      if ((await this.state.marker()) !== undefined) {
        return;
      }
      if (await nothingToDerive(this.options.main)) {
        await this.state.markComplete('empty');
        rebuildsTotal.inc({ outcome: 'empty' });
        return;
      }
    } catch (error) {
      logger.warn(`derived-state check failed: ${(error as Error).message}`);
      return;
    }
    this.running = this.rebuild().finally(() => {
      this.running = undefined;
    });
  }

  private async rebuild(): Promise<void> {
    const { logger } = this.options;
    const rebuilder = new Rebuilder(this.options);
    logger.warn('the data Redis has no derived-state marker: rebuilding it from Postgres');
    try {
      const result = await rebuilder.run();
      logger.log(`rebuild finished in ${result.ms} ms: ${JSON.stringify(result.counts)}`);
      rebuildsTotal.inc({ outcome: 'completed' });
      for (const [phase, ms] of Object.entries(result.phaseMs)) {
        rebuildPhaseSeconds.set({ phase }, ms / 1000);
      }
      this.options.onRebuilt?.(result);
    } catch (error) {
      if (error instanceof RebuildLockHeld) {
        return; // another process is rebuilding
      }
      rebuildsTotal.inc({ outcome: 'failed' });
      logger.warn(`rebuild failed (the next check retries): ${(error as Error).message}`);
    }
  }
}
