/**
 * The dev stack's (`npm start`) addresses, overridden by the caller's environment. They are
 * written out here because the module-boundary rules let an app use @murmur/database (which owns
 * the shard placement this tool must match) but not the tooling lib @murmur/stack, whose
 * `serviceEnv(buildTopology({ profile: 'dev' }), …)` is where these come from.
 */
export const DEV_STACK: Record<string, string> = {
  DATABASE_URL: 'postgres://murmur@127.0.0.1:15432/murmur',
  SHARDS: JSON.stringify([
    { primary: 'postgres://murmur@127.0.0.1:15440/murmur_posts' },
    { primary: 'postgres://murmur@127.0.0.1:15450/murmur_posts' },
  ]),
  REDIS_URL: 'redis://127.0.0.1:16379',
};
