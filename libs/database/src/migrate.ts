import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { createDataSource, nodeName } from './data-source';
import { CreateLeaderboardScores1763856100000 } from './migrations/main/1763856100000-create-leaderboard-scores';
import { CreateUsersAndFollows1763856000000 } from './migrations/main/1763856000000-create-users-and-follows';
import { CreateLeaderboardEvents1764700000000 } from './migrations/main/1764700000000-create-leaderboard-events';
import { CreateLeaderboardWindows1764800000000 } from './migrations/main/1764800000000-create-leaderboard-windows';
import { IndexUsersByFollowers1763900000000 } from './migrations/main/1763900000000-index-users-by-followers';
import { UnverifiedEmailsNotUnique1765100000000 } from './migrations/main/1765100000000-unverified-emails-not-unique';
import { CreatePostShards1763856000000 } from './migrations/shard/1763856000000-create-post-shards';
import { CreateOutbox1764600000000 } from './migrations/outbox/1764600000000-create-outbox';
import { CreatePostLikes1763900000000 } from './migrations/shard/1763900000000-create-post-likes';
import { AddPostIdempotencyKeys1764600100000 } from './migrations/shard/1764600100000-add-post-idempotency-keys';

export const MAIN_MIGRATIONS = [
  CreateUsersAndFollows1763856000000,
  CreateLeaderboardScores1763856100000,
  IndexUsersByFollowers1763900000000,
  CreateOutbox1764600000000,
  CreateLeaderboardEvents1764700000000,
  CreateLeaderboardWindows1764800000000,
  UnverifiedEmailsNotUnique1765100000000,
];
export const SHARD_MIGRATIONS = [
  CreatePostShards1763856000000,
  CreatePostLikes1763900000000,
  CreateOutbox1764600000000,
  AddPostIdempotencyKeys1764600100000,
];

export interface MigrateTargets {
  mainUrl: string;
  shardUrls: string[];
}

export interface MigrateResult {
  node: string;
  applied: string[];
}

/** Apply pending migrations on the main primary and every shard primary (replicas follow by WAL). */
export async function runMigrations(
  targets: MigrateTargets,
  logger = new Logger('migrate'),
): Promise<MigrateResult[]> {
  const results: MigrateResult[] = [];
  for (const job of migrationJobs(targets)) {
    await withMigrationSource(job, async (ds) => {
      const applied = await ds.runMigrations({ transaction: 'each' });
      const node = `${job.label} (${nodeName(job.url)})`;
      logger.log(
        `${node}: ${applied.length === 0 ? 'up to date' : `applied ${applied.map((m) => m.name).join(', ')}`}`,
      );
      results.push({ node, applied: applied.map((m) => m.name) });
    });
  }
  return results;
}

/** Undo the newest migration on every node (for development). */
export async function revertLastMigration(targets: MigrateTargets): Promise<void> {
  for (const job of migrationJobs(targets)) {
    await withMigrationSource(job, (ds) => ds.undoLastMigration({ transaction: 'each' }));
  }
}

interface MigrationJob {
  url: string;
  migrations: Array<(typeof MAIN_MIGRATIONS)[number] | (typeof SHARD_MIGRATIONS)[number]>;
  label: string;
}

/** Every node migrations run on: the main primary, then each shard primary. */
function migrationJobs(targets: MigrateTargets): MigrationJob[] {
  return [
    { url: targets.mainUrl, migrations: MAIN_MIGRATIONS, label: 'main' },
    ...targets.shardUrls.map((url, i) => ({
      url,
      migrations: SHARD_MIGRATIONS,
      label: `shard-${i}`,
    })),
  ];
}

/** One connection to a node for its migrations, closed whatever `fn` does. */
async function withMigrationSource(
  job: MigrationJob,
  fn: (ds: DataSource) => Promise<unknown>,
): Promise<void> {
  const ds = createDataSource({
    url: job.url,
    name: 'murmur-migrate',
    poolSize: 1,
    migrations: job.migrations,
  });
  await ds.initialize();
  try {
    await fn(ds);
  } finally {
    await ds.destroy();
  }
}
