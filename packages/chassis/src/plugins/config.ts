// The config plugin: a service's configuration schema (the chassis' settings and its own), read from its
// source, watched, and every reload counted; the logger follows the configured level.
import Type, { type Static, type TObject, type TProperties } from 'typebox';
import { Counter, type Registry as MetricsRegistry } from 'prom-client';
import { parseConfig, watchConfig, type ConfigSource, type LiveConfig } from '../config.ts';
import { createLogger, type Logger } from '../logger.ts';
import { AddressTable, DiscoverySettings } from '../registry/index.ts';
import { ResiliencePolicy } from '../resilience.ts';

/** A service's name: its folder, its config key and what it registers under. The supervisor knows the list. */
export type ServiceName = string;

const baseConfigProperties = () => ({
  /** `local`: one machine, embedded adapters; `distributed`: many machines, shared infrastructure. */
  profile: Type.Union([Type.Literal('local'), Type.Literal('distributed')], {
    default: 'local',
    description: 'local or distributed; read once at start.',
  }),
  http: Type.Object(
    {
      host: Type.String({ default: '127.0.0.1' }),
      /** Given by whoever starts the service (the supervisor, a manifest); 0 takes any free port. */
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 0 }),
      /** The URL this instance registers, when others reach it by another address than it listens on. */
      advertiseUrl: Type.Optional(Type.String()),
    },
    { default: {}, description: 'Where the service listens; read once at start.' },
  ),
  log: Type.Object({ level: Type.String({ default: 'info' }) }, { default: {}, description: 'Live.' }),
  database: Type.Object(
    { url: Type.Optional(Type.String()), poolSize: Type.Integer({ minimum: 1, default: 10 }) },
    { default: {}, description: 'The service database and its pool; read once at start.' },
  ),
  internal: Type.Object(
    { secret: Type.String({ minLength: 32 }) },
    { description: 'The secret that signs identities between services; read once at start.' },
  ),
  registry: AddressTable,
  discovery: DiscoverySettings,
  upstreams: Type.Record(Type.String(), ResiliencePolicy, { default: {} }),
  messaging: Type.Object(
    {
      /** Default: `postgres` in the local profile, `amqp` (RabbitMQ) in the distributed one. */
      transport: Type.Optional(Type.Union([Type.Literal('postgres'), Type.Literal('amqp')])),
      /** The `bus` database of the postgres transport; without it, events stay in the outbox. */
      busUrl: Type.Optional(Type.String()),
      amqpUrl: Type.String({ default: 'amqp://guest:guest@127.0.0.1:5672' }),
      namespace: Type.String({ default: 'souk' }),
      relay: Type.Object(
        {
          batchSize: Type.Integer({ minimum: 1, default: 100 }),
          pollIntervalMs: Type.Integer({
            minimum: 10,
            default: 10_000,
            description: 'The safety poll behind LISTEN/NOTIFY (every second while listening is down).',
          }),
        },
        { default: {} },
      ),
    },
    { default: {}, description: 'The event transport and its relay; read once at start.' },
  ),
  /** How long spent rows are kept before the retention worker deletes them. */
  retention: Type.Object(
    {
      intervalMs: Type.Integer({
        minimum: 1000,
        default: 3_600_000,
        description: 'Time between pruning runs.',
      }),
      idempotencyKeysMs: Type.Integer({
        minimum: 0,
        default: 24 * 3_600_000,
        description: 'Completed or abandoned Idempotency-Keys; a retry after this makes a new request.',
      }),
      sentEventsMs: Type.Integer({ minimum: 0, default: 3_600_000, description: 'Published outbox rows.' }),
      inboxMs: Type.Integer({
        minimum: 0,
        default: 7 * 24 * 3_600_000,
        description: 'Inbox entries; far longer than any redelivery can lag.',
      }),
    },
    { default: {} },
  ),
});
type BaseConfigProperties = ReturnType<typeof baseConfigProperties>;

/** The chassis' own settings, what every service has. */
export type BaseConfig = Static<TObject<BaseConfigProperties>>;
export type ServiceConfig<P extends TProperties> = BaseConfig & Static<TObject<P>>;
/** The live configuration as the other plugins see it: the chassis' settings of any service's. */
export type BaseLiveConfig = Pick<LiveConfig<BaseConfig>, 'current' | 'onChange'>;

/** A service's whole configuration schema, the chassis' settings and its own; what the `souk` CLI validates. */
export function configSchema<P extends TProperties = Record<never, never>>(settings?: P) {
  return Type.Object({ ...baseConfigProperties(), ...(settings ?? ({} as P)) });
}

export interface ConfigPluginOptions<P extends TProperties> {
  name: ServiceName;
  settings: P | undefined;
  source: ConfigSource;
  env: NodeJS.ProcessEnv;
  metrics: MetricsRegistry;
}

/** Loads and watches the configuration; the returned `stop` ends the watch. */
export async function configPlugin<P extends TProperties>(
  options: ConfigPluginOptions<P>,
): Promise<{ config: LiveConfig<ServiceConfig<P>>; schema: TObject; log: Logger; stop: () => void }> {
  const { name, env } = options;
  const schema = configSchema(options.settings);
  const log = createLogger(name, env.SOUK__LOG__LEVEL ?? 'info');
  const reloads = new Counter({
    name: 'config_reloads_total',
    help: 'Configuration changes seen while running: applied, or refused as invalid (the old one kept).',
    labelNames: ['result'],
    registers: [options.metrics],
  });
  for (const result of ['applied', 'refused']) reloads.inc({ result }, 0);
  const parse = (raw: Record<string, unknown>) => parseConfig(schema, raw) as ServiceConfig<P>;
  const { config, stop } = await watchConfig(parse, options.source, env, log, (result) =>
    reloads.inc({ result }),
  );
  config.onChange((next) => {
    log.level = next.log.level;
  });
  log.level = config.current.log.level;
  return { config, schema, log, stop };
}
