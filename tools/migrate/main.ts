/**
 * One-shot migration command: `npm run migrate` locally, the `migrate` service in compose and the
 * migrate Job in Kubernetes. Needs DATABASE_URL and SHARDS; `--revert` undoes the newest migration.
 */
import { loadConfig, mainDatabaseConfigSchema, shardDatabaseConfigSchema } from '@murmur/config';
import { revertLastMigration, runMigrations } from '@murmur/database';

const schema = mainDatabaseConfigSchema
  .pick({ DATABASE_URL: true })
  .extend(shardDatabaseConfigSchema.pick({ SHARDS: true }).shape);

async function main(): Promise<void> {
  const config = loadConfig(schema);
  const targets = { mainUrl: config.DATABASE_URL, shardUrls: config.SHARDS.map((s) => s.primary) };
  const started = Date.now();
  if (process.argv.includes('--revert')) {
    await revertLastMigration(targets);
    console.log(
      `migrate: reverted the newest migration on ${1 + targets.shardUrls.length} databases`,
    );
    return;
  }
  const results = await runMigrations(targets);
  const applied = results.reduce((n, r) => n + r.applied.length, 0);
  console.log(
    `migrate: ${results.length} databases, ${applied} migrations applied in ${Date.now() - started} ms`,
  );
}

main().catch((error: unknown) => {
  console.error(`migrate failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
