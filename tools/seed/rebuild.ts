/**
 * `npm run rebuild`: rebuild the data Redis's derived state (follow-graph copies, authored lists,
 * leaderboards; timelines are materialised on read) from Postgres, with progress, in bounded memory, while the services
 * serve. The same command is the one-shot `rebuild` Job in Kubernetes. `--status` only prints
 * the marker and any running rebuild. When another process (a feed worker that noticed the loss)
 * holds the rebuild lock, this follows that rebuild until it finishes instead of starting one.
 *
 * Targets default to the dev stack; DATABASE_URL, DATABASE_REPLICA_URLS, SHARDS, SHARD_MAP,
 * REDIS_URL, TIMELINE_MAX and REBUILD_BATCH override them.
 */
import { parseArgs } from 'node:util';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  feedConfigSchema,
  loadConfig,
  mainDatabaseConfigSchema,
  rebuildConfigSchema,
  redisConfigSchema,
  shardDatabaseConfigSchema,
} from '@murmur/config';
import type { RebuildPhase } from '@murmur/contracts';
import {
  DatabaseModule,
  MAIN_CLUSTER,
  type ReplicatedCluster,
  SHARD_ROUTER,
  type ShardRouter,
} from '@murmur/database';
import { DerivedState, RebuildLockHeld, Rebuilder } from '@murmur/rebuild';
import { createRedis } from '@murmur/redis';
import { DEV_STACK } from './dev-stack';
import { Progress } from './progress';

const schema = mainDatabaseConfigSchema
  .extend(shardDatabaseConfigSchema.shape)
  .extend(redisConfigSchema.pick({ REDIS_URL: true }).shape)
  .extend(feedConfigSchema.pick({ TIMELINE_MAX: true }).shape)
  .extend(rebuildConfigSchema.shape);

/** How long `npm run rebuild` follows another process's rebuild before it gives up. */
const FOLLOW_TIMEOUT_MS = 60 * 60_000;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { status: { type: 'boolean' } }, strict: true });
  const config = loadConfig(schema, { ...DEV_STACK, ...process.env });
  const redis = createRedis(config.REDIS_URL, 'data', 'rebuild', 5_000);
  const state = new DerivedState(redis);
  try {
    if (values.status) {
      console.log(await describe(state));
      return;
    }
    @Module({
      imports: [DatabaseModule.forRoot({ appName: 'rebuild', main: config, shards: config })],
    })
    class RebuildCli {}
    const app = await NestFactory.createApplicationContext(RebuildCli, { logger: ['warn'] });
    try {
      const bars = new Map<RebuildPhase, Progress>();
      const rebuilder = new Rebuilder({
        main: app.get<ReplicatedCluster>(MAIN_CLUSTER),
        shards: app.get<ShardRouter>(SHARD_ROUTER),
        redis,
        timelineMax: config.TIMELINE_MAX,
        batch: config.REBUILD_BATCH,
        owner: `npm-run-rebuild-${process.pid}`,
        onProgress: (phase, done, total) => {
          let bar = bars.get(phase);
          if (!bar && total > 0) {
            bar = new Progress(phase, total);
            bars.set(phase, bar);
          }
          bar?.tick(done - bar.count);
        },
      });
      const result = await rebuilder.run();
      for (const bar of bars.values()) {
        bar.finish();
      }
      const phases = Object.entries(result.phaseMs)
        .map(
          ([phase, ms]) =>
            `  ${phase.padEnd(13)} ${String(ms).padStart(7)} ms  ${result.counts[phase as RebuildPhase]} rows`,
        )
        .join('\n');
      console.log(`\nrebuild: done in ${(result.ms / 1000).toFixed(1)} s\n${phases}`);
    } catch (error) {
      if (!(error instanceof RebuildLockHeld)) {
        throw error;
      }
      console.log('rebuild: another process is rebuilding; following it');
      await follow(state);
    } finally {
      await app.close();
    }
  } finally {
    redis.disconnect();
  }
}

async function describe(state: DerivedState): Promise<string> {
  const marker = await state.marker();
  const running = await state.rebuildRecord();
  const lines = [
    marker
      ? `derived state: complete (by ${marker.by} at ${marker.at})`
      : 'derived state: NOT complete (no marker): readers use fallbacks until a rebuild finishes',
  ];
  if (running.phase) {
    lines.push(
      `rebuild: ${running.phase} ${running.done}/${running.total} by ${running.owner}, started ${running.startedAt}`,
    );
  }
  return lines.join('\n');
}

/** Print the other rebuild's progress until the marker is back. */
async function follow(state: DerivedState): Promise<void> {
  const deadline = Date.now() + FOLLOW_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    if (await state.marker()) {
      console.log(await describe(state));
      return;
    }
    const running = await state.rebuildRecord();
    const line = running.phase
      ? `rebuild: ${running.phase} ${running.done}/${running.total} by ${running.owner}`
      : 'rebuild: waiting for a process to take the lock';
    if (line !== last) {
      console.log(line);
      last = line;
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
  throw new Error('the other rebuild did not finish within an hour');
}

main().catch((error: unknown) => {
  console.error(`\nrebuild failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
