import { DataSource, type MixedList } from 'typeorm';

export interface DataSourceOptions {
  url: string;
  name: string;
  poolSize: number;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations?: MixedList<Function>;
}

/** A TypeORM data source on one Postgres node. Schema is managed by migrations only. */
export function createDataSource(options: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    synchronize: false,
    migrationsRun: false,
    migrations: options.migrations ?? [],
    migrationsTableName: 'murmur_migrations',
    logging: false,
    extra: {
      max: options.poolSize,
      application_name: options.name,
      connectionTimeoutMillis: 2_000,
      // Fail a stuck query instead of holding a request forever: the server cancels a statement
      // that runs too long, and the client gives up on a server that does not answer at all (a
      // hung or partitioned node never enforces its own statement_timeout).
      statement_timeout: 5_000,
      query_timeout: 6_000,
    },
  });
}

/** Host:port of a postgres URL, for names in logs and metrics. */
export function nodeName(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}`;
  } catch {
    return 'unknown';
  }
}

/** Connections each pool opens at boot (pg opens them lazily otherwise). */
export const PREWARM_CONNECTIONS = 4;

/**
 * Open a few pool connections before the service reports ready, so that the first requests after
 * a start (a deploy, a restart under load) do not each pay a TCP connect, the start-up packet and
 * authentication. Concurrent queries make the pool open that many connections; a failure is
 * harmless (the pool connects on demand as before).
 */
export async function prewarmPool(ds: DataSource, connections: number): Promise<void> {
  await Promise.all(
    Array.from({ length: connections }, () => ds.query('SELECT 1').catch(() => undefined)),
  );
}
