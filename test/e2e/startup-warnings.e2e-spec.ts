import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildTopology } from '@murmur/stack';
import { REPO_ROOT } from '@murmur/testing';

/**
 * Every service and worker process starts without a warning from Node or a library (such as
 * Fastify's FSTWRN004 for an error handler set twice): what a user's first screen shows. Read
 * from the logs of the running test stack, which captured each process's output from its start.
 */
describe('the services start without warnings', () => {
  const t = buildTopology({ profile: 'test', root: REPO_ROOT });
  const serviceLogs = t.services.map((s) => path.join(t.logDir, `${s.name}.log`));

  it('has a log for every service process', () => {
    const present = new Set(readdirSync(t.logDir).map((f) => path.join(t.logDir, f)));
    expect(serviceLogs.filter((f) => !present.has(f))).toEqual([]);
  });

  it('no process warned', () => {
    const warnings = serviceLogs.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => /^\(node:\d+\) |Warning:/.test(line))
        .map((line) => `${path.basename(file)}: ${line.slice(0, 160)}`),
    );
    expect(warnings).toEqual([]);
  });
});
