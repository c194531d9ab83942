// The operator's command line: `npm run souk -- config get|set|edit <service> …` against the config center (etcd).
import { ConfigError, connectEtcd, etcdEndpoints } from '@souk/chassis';
import { configTarget, editConfig, getConfig, setConfig } from './config-command.ts';

const USAGE = `usage: souk config get <service|shared> [path]
       souk config set <service|shared> <path> <value>    (value is YAML: 5, true, [a, b])
       souk config edit <service|shared>                   (opens $EDITOR, validates on save)
options: --endpoints http://127.0.0.1:2379[,…]  (default: SOUK_ETCD_ENDPOINTS)`;

async function main(argv: string[]): Promise<number> {
  // By hand, not util.parseArgs: a value such as `-3` is a value to set, not an option.
  const positionals: string[] = [];
  let endpoints = process.env.SOUK_ETCD_ENDPOINTS;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      return 0;
    }
    if (arg === '--endpoints') endpoints = argv[++i];
    else if (arg.startsWith('--endpoints=')) endpoints = arg.slice('--endpoints='.length);
    else positionals.push(arg);
  }
  const [group, command, name, ...rest] = positionals;
  if (group !== 'config' || command === undefined) {
    console.log(USAGE);
    return 2;
  }
  const target = configTarget(name);
  const hosts = etcdEndpoints(endpoints);
  const etcd = connectEtcd(hosts);
  try {
    if (command === 'get' && rest.length <= 1) {
      console.log(await getConfig(etcd, target, rest[0]));
      return 0;
    }
    let changes: string[];
    if (command === 'set' && rest.length === 2) changes = await setConfig(etcd, target, rest[0]!, rest[1]!);
    else if (command === 'edit' && rest.length === 0) {
      changes = await editConfig(etcd, target, process.env.VISUAL ?? process.env.EDITOR ?? 'vi');
    } else {
      console.log(USAGE);
      return 2;
    }
    console.log(changes.length === 0 ? 'no change' : changes.join('\n'));
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      `etcd at ${hosts.join(',')} did not answer: ${(error as Error).message.split('.')[0]}`,
    );
  } finally {
    etcd.close();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(`souk: ${(error as Error).message}`);
  process.exitCode = 1;
}
