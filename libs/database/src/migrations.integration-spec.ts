import { randomBytes } from 'node:crypto';
import { superuser, testTopology, withPostgres } from '@murmur/testing';
import { createDataSource } from './data-source';
import { MAIN_MIGRATIONS, SHARD_MIGRATIONS } from './migrate';

/**
 * Every migration's `down()` undoes its `up()`: on scratch databases of the test stack's main
 * primary, all migrations are applied, then reverted one by one to an empty schema, then applied
 * again to the very same schema (tables, columns, indexes, constraints, functions, sequences).
 */
describe('migrations up, down and up again (real Postgres)', () => {
  const t = testTopology();
  const primary = t.postgres.find((n) => n.cluster === 'main' && n.role === 'primary');
  const node = primary?.name ?? 'pg-main-primary';
  const port = primary?.port ?? 0;

  /** What a migration can create, outside the catalogs, as sorted lines. */
  const SCHEMA_SQL = `
    SELECT 'table ' || table_schema || '.' || table_name || ' ' || column_name || ' ' || data_type
           || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS line
      FROM information_schema.columns
     WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
    UNION ALL
    SELECT 'index ' || schemaname || '.' || indexname || ' ' || indexdef
      FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
    UNION ALL
    SELECT 'constraint ' || n.nspname || '.' || c.conname || ' on ' || c.conrelid::regclass::text
           || ' ' || pg_get_constraintdef(c.oid)
      FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    UNION ALL
    SELECT 'function ' || n.nspname || '.' || p.proname
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    UNION ALL
    SELECT 'schema ' || nspname FROM pg_namespace
     WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'public')
       AND nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%'
    ORDER BY 1`;

  it.each([
    ['main', MAIN_MIGRATIONS],
    ['shard', SHARD_MIGRATIONS],
  ])(
    'the %s migrations revert cleanly and apply again identically',
    async (_kind, migrations) => {
      const database = `murmur_migrations_${randomBytes(4).toString('hex')}`;
      await withPostgres(node, 'postgres', (c) => c.query(`CREATE DATABASE ${database}`));
      const ds = createDataSource({
        url: `postgres://${superuser()}@127.0.0.1:${port}/${database}`,
        name: 'migrations-spec',
        poolSize: 1,
        migrations,
      });
      await ds.initialize();
      const schema = async (): Promise<string[]> =>
        (await ds.query<Array<{ line: string }>>(SCHEMA_SQL))
          .map((r) => r.line)
          .filter((l) => !l.includes('murmur_migrations'));
      try {
        const empty = await schema();
        await ds.runMigrations({ transaction: 'each' });
        const applied = await schema();
        expect(applied.length).toBeGreaterThan(empty.length);
        for (let i = 0; i < migrations.length; i++) {
          await ds.undoLastMigration({ transaction: 'each' });
        }
        expect(await schema()).toEqual(empty);
        await expect(
          ds.query<Array<{ n: string }>>('SELECT count(*)::text AS n FROM murmur_migrations'),
        ).resolves.toEqual([{ n: '0' }]);
        await ds.runMigrations({ transaction: 'each' });
        expect(await schema()).toEqual(applied);
      } finally {
        await ds.destroy();
        await withPostgres(node, 'postgres', (c) =>
          c.query(`DROP DATABASE ${database} WITH (FORCE)`),
        );
      }
    },
    120_000,
  );
});
