import { stopSignalFor } from './processes';

describe(stopSignalFor.name, () => {
  it.each([
    ['/usr/lib/postgresql/15/bin/postgres -D /x/pg/pg-main-primary -p 15432', 'SIGINT'],
    ['nginx: master process /usr/sbin/nginx -e stderr -p /x/nginx', 'SIGQUIT'],
    ['redis-server 127.0.0.1:16379', 'SIGTERM'],
    ['/repo/node_modules/.bin/node /repo/dist/services/user/src/main.js', 'SIGTERM'],
  ])('stops %s with %s', (command, signal) => {
    expect(stopSignalFor(command)).toBe(signal);
  });
});
