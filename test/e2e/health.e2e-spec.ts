import { testTopology } from '@murmur/testing';

describe('health and metrics on every process', () => {
  const procs = testTopology().services;

  it.each(procs.map((p) => [p.name, p.port]))(
    '%s answers live, ready (Terminus, with its dependencies) and metrics',
    async (_name, port) => {
      const live = await fetch(`http://127.0.0.1:${port}/health/live`);
      expect(live.status).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as {
        status: string;
        details: Record<string, { status: string }>;
      };
      expect(body.status).toBe('ok');
      expect(body.details.redis).toMatchObject({ status: 'up' });
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('process_cpu_user_seconds_total');
    },
  );
});
