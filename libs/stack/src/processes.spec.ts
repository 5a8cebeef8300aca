import { childEnv, STACK_MARKER, stopSignalFor } from './processes';

describe(stopSignalFor.name, () => {
  it.each([
    ['/usr/lib/postgresql/15/bin/postgres -D /x/pg/pg-main-primary -p 15432', 'SIGINT'],
    ['nginx: master process /usr/sbin/nginx -e stderr -p /x/nginx', 'SIGQUIT'],
    ['redis-server 127.0.0.1:16379', 'SIGTERM'],
    ['memcached --port 16391 --listen 127.0.0.1 --udp-port 0', 'SIGTERM'],
    ['/repo/node_modules/.bin/node /repo/dist/services/user/src/main.js', 'SIGTERM'],
  ])('stops %s with %s', (command, signal) => {
    expect(stopSignalFor(command)).toBe(signal);
  });
});

describe(childEnv.name, () => {
  it('passes the system variables, the stack marker and its own, nothing else', () => {
    const caller = {
      PATH: '/usr/bin',
      HOME: '/root',
      [STACK_MARKER]: '/repo/.stack',
      DATABASE_URL: 'postgres://stray',
      NODE_OPTIONS: '--inspect',
      AWS_SECRET_ACCESS_KEY: 'secret',
    };
    expect(childEnv(caller, { PORT: '3001' })).toEqual({
      PATH: '/usr/bin',
      HOME: '/root',
      [STACK_MARKER]: '/repo/.stack',
      PORT: '3001',
    });
  });

  it('lets a component’s own setting win over the caller’s', () => {
    expect(childEnv({ PATH: '/usr/bin', TZ: 'UTC' }, { TZ: 'Europe/Paris' }).TZ).toBe(
      'Europe/Paris',
    );
  });
});
