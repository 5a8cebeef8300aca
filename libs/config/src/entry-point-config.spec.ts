import { z } from 'zod';
import { entryPointConfig, environmentFit, requiredVariables } from './entry-point-config';
import { loadConfig } from './load-config';

const processEnv = { SERVICE_NAME: 'feed', PORT: '3000', REDIS_URL: 'redis://127.0.0.1:6379' };

describe(entryPointConfig.name, () => {
  it('requires the variables of the parts it names, and reads no other part', () => {
    const entry = entryPointConfig(['mainDatabase']);
    expect(requiredVariables(entry)).toEqual(['SERVICE_NAME', 'PORT', 'REDIS_URL', 'DATABASE_URL']);
    const config = loadConfig(entry.schema, { ...processEnv, DATABASE_URL: 'postgres://a@h/db' });
    expect(config.DATABASE_URL).toBe('postgres://a@h/db');
    for (const other of ['SHARDS', 'SESSION_IDLE_SECONDS', 'QUEUE_ATTEMPTS', 'OUTBOX_POLL_MS']) {
      expect(entry.variables).not.toContain(other);
      expect(config).not.toHaveProperty(other);
    }
  });

  it("adds the entry point's own variables, and drops variables nothing reads", () => {
    const entry = entryPointConfig(['queues'], { LIMIT: z.coerce.number().int() });
    expect(requiredVariables(entry)).toEqual(['SERVICE_NAME', 'PORT', 'REDIS_URL', 'LIMIT']);
    const config = loadConfig(entry.schema, { ...processEnv, LIMIT: '7', SHARDS: 'not read' });
    expect(config).toMatchObject({ LIMIT: 7, QUEUE_ATTEMPTS: 8, PORT: 3000 });
    expect(config).not.toHaveProperty('SHARDS');
  });

  it('says what an environment lacks, sets in vain, and gets wrong', () => {
    const entry = entryPointConfig(['shards']);
    expect(environmentFit(entry, { ...processEnv, PORT: 'x', SESSION_IDLE_SECONDS: '60' })).toEqual(
      {
        missing: ['SHARDS'],
        unread: ['SESSION_IDLE_SECONDS'],
        problems: ['PORT', 'SHARDS'],
      },
    );
  });
});
