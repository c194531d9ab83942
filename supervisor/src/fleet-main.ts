// `npm run start:fleet`: the shop as a fleet on this machine (2 instances of each service and 2 gateways by
// default) on PostgreSQL, RabbitMQ, Redis and etcd, until Ctrl-C. `-- --instances 3` or `orders=3,payments=2`.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { parseInstances, startFleet } from './fleet.ts';
import { createTerminal, stopOnSignals } from './terminal.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const env = process.env;
const terminal = createTerminal(env);
const { say, bold } = terminal;

// Ctrl-C while starting stops what was started; once up, stopOnSignals takes over.
const starting = new AbortController();
const abortStart = () => starting.abort();
process.once('SIGINT', abortStart);
process.once('SIGTERM', abortStart);
const fleet = await (async () => {
  const { values } = parseArgs({
    options: { instances: { type: 'string' }, gateways: { type: 'string', default: '8080,8081' } },
  });
  const instances = parseInstances(values.instances);
  const gatewayPorts = values.gateways.split(',').map(Number);
  say(
    `Starting Souk's fleet: ${Object.entries(instances)
      .map(([name, count]) => `${count} ${name}`)
      .join(', ')}, and gateways on ${gatewayPorts.join(' and ')}…`,
  );
  return startFleet({
    root,
    dataDir: path.resolve(env.SOUK_DATA_DIR ?? path.join(root, '.souk')),
    env,
    instances,
    gatewayPorts,
    say,
    onLogLine: terminal.logLine,
    signal: starting.signal,
  });
})().catch((error: unknown) => {
  for (const line of (error instanceof Error ? error.message : String(error)).split('\n'))
    say(`Souk did not start: ${line}`);
  process.exit(1);
});
terminal.up();
process.off('SIGINT', abortStart);
process.off('SIGTERM', abortStart);

const memory = await fleet.memory();
say('');
for (const url of fleet.gatewayUrls) say(bold(`Storefront ${url}/`) + '   (open it in a browser)');
for (const url of fleet.gatewayUrls) say(bold(`Shop API   ${url}`) + '   (try GET /api/products)');
say(
  `Admin      ${fleet.admin.email} / ${fleet.admin.password}${fleet.admin.generated ? '   (generated; set SOUK_ADMIN_EMAIL and SOUK_ADMIN_PASSWORD to choose)' : ''}`,
);
say(`Registry   etcdctl --endpoints ${fleet.engines.etcd} get --prefix /souk/services/`);
say(
  `Config     npm run souk -- config get <service>   ·   npm run souk -- config set <service> <path> <value>`,
);
if (memory)
  say(`Memory     ${(memory.bytes / 2 ** 20).toFixed(0)} MiB (PSS) in ${memory.processes} processes`);
stopOnSignals(terminal, 'draining every instance', () => fleet.stop());
say('Press Ctrl-C to stop.');
