/**
 * @murmur/database — Postgres access for every service, and the one place where a query's
 * destination is chosen: primary or replica (with read-your-writes by WAL LSN), and which physical
 * shard holds a logical shard of posts. Repositories call `cluster.read/write` or the shard router;
 * controllers and services never pick a node.
 */
export * from './lsn';
export * from './consistency-context';
export * from './sql';
export * from './replicated-cluster';
export * from './shard-router';
export * from './post-id';
export * from './data-source';
export * from './migrate';
export * from './database.module';
