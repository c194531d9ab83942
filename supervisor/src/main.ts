// `npm start`: the whole shop on this machine, on embedded PostgreSQL, until Ctrl-C.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startShop } from './shop.ts';
import { createTerminal, stopOnSignals } from './terminal.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const env = process.env;
const terminal = createTerminal(env);
const { say, bold } = terminal;

say('Starting Souk: embedded PostgreSQL, then each service as its own process…');
const shop = await startShop({
  root,
  dataDir: path.resolve(env.SOUK_DATA_DIR ?? path.join(root, '.souk')),
  databasePort: Number(env.SOUK_DATABASE_PORT ?? 54329),
  portOffset: Number(env.SOUK_PORT_OFFSET ?? 0),
  env,
  say,
  onLogLine: terminal.logLine,
}).catch((error: unknown) => {
  say(`Souk did not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
terminal.up();

const memory = await shop.memory();
say('');
say(bold(`Storefront ${shop.gatewayUrl}/`) + '   (open it in a browser)');
say(bold(`Shop API   ${shop.gatewayUrl}`) + '   (try GET /api/products)');
say(
  `Admin      ${shop.admin.email} / ${shop.admin.password}${shop.admin.generated ? '   (generated; set SOUK_ADMIN_EMAIL and SOUK_ADMIN_PASSWORD to choose)' : ''}`,
);
if (memory)
  say(`Memory     ${(memory.bytes / 2 ** 20).toFixed(0)} MiB (PSS) in ${memory.processes} processes`);
// Listen before saying so: whoever reads the line may press Ctrl-C at once.
stopOnSignals(terminal, 'stopping every service, then PostgreSQL', () => shop.stop());
say('Press Ctrl-C to stop.');
