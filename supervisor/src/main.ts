// `npm start`: the whole shop on this machine, on embedded PostgreSQL, until Ctrl-C.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLineFormatter } from './log-lines.ts';
import { startShop } from './shop.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const env = process.env;
const color = Boolean(process.stdout.isTTY) && env.NO_COLOR === undefined;
const format = createLineFormatter(color);
const bold = (text: string) => (color ? `\u001b[1m${text}\u001b[0m` : text);
const say = (line: string) => process.stdout.write(`${bold('souk'.padEnd(13))} ${line}\n`);

say('Starting Souk: embedded PostgreSQL, then each service as its own process…');
let ready = false;
const shop = await startShop({
  root,
  dataDir: path.resolve(env.SOUK_DATA_DIR ?? path.join(root, '.souk')),
  databasePort: Number(env.SOUK_DATABASE_PORT ?? 54329),
  portOffset: Number(env.SOUK_PORT_OFFSET ?? 0),
  env,
  say,
  onLogLine: (source, line) => {
    if (shouldShow(source, line)) process.stdout.write(`${format(source, line)}\n`);
  },
}).catch((error: unknown) => {
  say(`Souk did not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
ready = true;

/** While starting, only warnings and errors; once up, everything the services say. PostgreSQL's routine
 * LOG lines stay hidden: its problems come as WARNING, ERROR, FATAL or PANIC. */
function shouldShow(source: string, line: string): boolean {
  if (source === 'postgres') return /\b(WARNING|ERROR|FATAL|PANIC):/.test(line);
  return ready || /"level":[456]\d/.test(line) || !line.startsWith('{');
}

const memory = await shop.memory();
say('');
say(bold(`Shop API   ${shop.gatewayUrl}`) + '   (try GET /api/products)');
say(
  `Admin      ${shop.admin.email} / ${shop.admin.password}${shop.admin.generated ? '   (generated; set SOUK_ADMIN_EMAIL and SOUK_ADMIN_PASSWORD to choose)' : ''}`,
);
if (memory)
  say(`Memory     ${(memory.bytes / 2 ** 20).toFixed(0)} MiB (PSS) in ${memory.processes} processes`);
say('Press Ctrl-C to stop.');

let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) {
    say('Stopping at once.');
    process.exit(1);
  }
  stopping = true;
  say(`${signal}: stopping every service, then PostgreSQL…`);
  shop.stop().then(
    () => {
      say('Stopped.');
      process.exit(0);
    },
    (error: unknown) => {
      say(`Stop failed: ${String(error)}`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// `npm start` runs us under npm and a shell, which do not always pass a SIGTERM on: when the process that
// started us is gone, stop as if told to, rather than leave the shop running unowned.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop('SIGHUP');
}, 1000).unref();
