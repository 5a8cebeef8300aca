export * from './derived-state';
export * from './leaderboard-ledger';
export * from './rebuilder';
export * from './rebuild-watcher';
export * from './metrics';
