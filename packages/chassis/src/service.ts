// createService(): the chassis every Souk service stands on. One call gives config (hot-reloaded), logs,
// health, metrics, validation, problem+json errors, identity, PostgreSQL with migrations, upstream clients
// and graceful shutdown; main.ts then only adds routes.
import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import Type, { type Static, type TObject, type TProperties } from 'typebox';
import { Counter } from 'prom-client';
import { parseConfig, watchConfig, type ConfigSource, type LiveConfig } from './config.ts';
import { configSourceFor } from './config-sources/index.ts';
import { createPool, migrate, type Pool } from './db.ts';
import { answerClientError, answerFrameworkError, installProblemHandlers, unauthorized } from './errors.ts';
import { checkInput } from './input.ts';
import { Health } from './health.ts';
import { IDENTITY_HEADER, createIdentitySigner, type Identity, type IdentitySigner } from './identity.ts';
import { createLogger, type Logger } from './logger.ts';
import { createMetrics, instrumentHttp } from './metrics.ts';
import { DiscoverySettings, createRegistry, type Registry } from './registry/index.ts';
import { ResiliencePolicy, UpstreamClient } from './resilience.ts';
import { IDEMPOTENCY_MIGRATIONS, pruneExpiredIdempotencyKeys } from './idempotency/index.ts';
import { RetentionWorker, type RetentionRule } from './retention.ts';
import { continueTrace, runInTrace } from './trace-context.ts';
import {
  MESSAGING_MIGRATIONS,
  Outbox,
  createMessaging,
  pruneInbox,
  pruneSentOutbox,
  type Messaging,
  type Subscription,
} from './messaging/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity | undefined;
  }
}

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Where each service listens in the local profile; the registry's default address table. */
export const LOCAL_PORTS = {
  gateway: 8080,
  users: 5001,
  orders: 5002,
  payments: 5003,
  inventory: 5004,
  notifications: 5005,
} as const;
export type ServiceName = keyof typeof LOCAL_PORTS;

const localAddresses = Object.fromEntries(
  Object.entries(LOCAL_PORTS).map(([name, port]) => [name, `http://127.0.0.1:${port}`]),
);

const BODY_LIMIT_BYTES = 1024 * 1024;

const baseConfigProperties = (port: number) => ({
  /** `local`: one machine, embedded adapters; `distributed`: many machines, shared infrastructure. */
  profile: Type.Union([Type.Literal('local'), Type.Literal('distributed')], {
    default: 'local',
    description: 'local or distributed; read once at start.',
  }),
  http: Type.Object(
    {
      host: Type.String({ default: '127.0.0.1' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: port }),
      /** The URL this instance registers, when others reach it by another address than it listens on. */
      advertiseUrl: Type.Optional(Type.String()),
    },
    { default: {}, description: 'Where the service listens; read once at start.' },
  ),
  log: Type.Object({ level: Type.String({ default: 'info' }) }, { default: {} }),
  database: Type.Object(
    { url: Type.Optional(Type.String()), poolSize: Type.Integer({ minimum: 1, default: 10 }) },
    { default: {}, description: 'The service database and its pool; read once at start.' },
  ),
  internal: Type.Object(
    { secret: Type.String({ minLength: 32 }) },
    { description: 'The secret that signs identities between services; read once at start.' },
  ),
  registry: Type.Record(Type.String(), Type.String(), { default: localAddresses }),
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
          pollIntervalMs: Type.Integer({ minimum: 10, default: 1000 }),
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

export type ServiceConfig<P extends TProperties> = Static<TObject<BaseConfigProperties>> & Static<TObject<P>>;

/** A service's whole configuration schema, the chassis' settings and its own; what the `souk` CLI validates. */
export function configSchema<P extends TProperties = Record<never, never>>(name: ServiceName, settings?: P) {
  return Type.Object({ ...baseConfigProperties(LOCAL_PORTS[name]), ...(settings ?? ({} as P)) });
}

export interface ServiceOptions<P extends TProperties> {
  name: ServiceName;
  /** One sentence: what the service is for. Shown in the OpenAPI document. */
  description: string;
  /** The service's own configuration, beside the chassis' (http, log, database, internal, registry). */
  config?: P;
  /** Folders of `NNN_name.sql` files, applied in order; when given, the service owns a database. */
  migrations?: URL | readonly URL[];
  env?: NodeJS.ProcessEnv;
  configSource?: ConfigSource;
  /** Whether requests may carry a signed identity. The gateway, facing clients, strips it instead. */
  acceptsIdentity?: boolean;
}

export interface Worker {
  readonly name: string;
  start(): void | Promise<void>;
  stop(): Promise<void>;
}

export interface Service<C> {
  readonly name: ServiceName;
  readonly app: App;
  readonly log: Logger;
  readonly config: LiveConfig<C>;
  readonly health: Health;
  readonly identity: IdentitySigner;
  readonly registry: Registry;
  /** The service's database; only when it was created with migrations. */
  readonly db: Pool;
  /** Events to publish, added in the transaction of the change they announce; only with a database. */
  readonly outbox: Outbox;
  /** Consumes events as a subscriber group, from start() on. Handlers should use `once()` (the inbox). */
  subscribe(subscription: Subscription): void;
  /** A resilient client for another service, its policy from `upstreams.<name>` in config. */
  upstream(name: ServiceName): UpstreamClient;
  /** Runs on shutdown, after the HTTP server stopped, in reverse order of registration. */
  onClose(close: () => Promise<void> | void): void;
  /** Background work (a relay, consumers, a saga scan): started after the server listens, stopped first. */
  addWorker(worker: Worker): void;
  /** Prunes a table of the service's on the retention schedule; only with a database. */
  retain(rule: RetentionRule): void;
  /** More of this instance to publish in the registry, e.g. the address of its gRPC server; before start(). */
  advertise(extra: { grpcUrl?: string }): void;
  /** Listens, registers and starts the workers; resolves with the bound address. runMain() adds the signals. */
  start(): Promise<string>;
  stop(): Promise<void>;
}

export async function createService<P extends TProperties = Record<never, never>>(
  options: ServiceOptions<P>,
): Promise<Service<ServiceConfig<P>>> {
  const env = options.env ?? process.env;
  const schema = configSchema(options.name, options.config);
  const source = options.configSource ?? configSourceFor(options.name, env);
  const bootLog = createLogger(options.name, env.SOUK__LOG__LEVEL ?? 'info');
  const metrics = createMetrics(options.name);
  const reloads = new Counter({
    name: 'config_reloads_total',
    help: 'Configuration changes seen while running: applied, or refused as invalid (the old one kept).',
    labelNames: ['result'],
    registers: [metrics],
  });
  for (const result of ['applied', 'refused']) reloads.inc({ result }, 0);
  const parse = (raw: Record<string, unknown>) => parseConfig(schema, raw) as ServiceConfig<P>;
  const { config, stop: stopWatching } = await watchConfig(parse, source, env, bootLog, (result) =>
    reloads.inc({ result }),
  );
  const log = bootLog;
  config.onChange((next) => {
    log.level = next.log.level;
  });
  log.level = config.current.log.level;

  const app = Fastify({
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Parsed as plain JSON, then refused by name in checkInput, so the client learns which field was refused.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  installValidation(app);
  installProblemHandlers(app);
  await app.register(swagger, {
    openapi: { info: { title: `souk ${options.name}`, description: options.description, version: '0.1.0' } },
  });
  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());

  // Callback style on purpose: the rest of the request, handler included, runs inside `done`, in the span.
  app.addHook('onRequest', (request, _reply, done) => {
    const header = request.headers.traceparent;
    runInTrace(continueTrace(typeof header === 'string' ? header : undefined), done);
  });

  const identity = createIdentitySigner(config.current.internal.secret);
  app.decorateRequest('identity', undefined);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const credential = request.headers[IDENTITY_HEADER];
    if (typeof credential !== 'string' || options.acceptsIdentity === false) return;
    const verified = identity.verify(credential);
    if (verified === undefined) throw unauthorized('The identity credential is invalid or expired.');
    request.identity = verified;
  });
  app.addHook('onResponse', async (request, reply) => {
    const level = request.url.startsWith('/health') || request.url === '/metrics' ? 'debug' : 'info';
    request.log[level](
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request served',
    );
  });

  const health = new Health();
  health.routes(app);
  instrumentHttp(app, metrics);

  const closers: Array<() => Promise<void> | void> = [stopWatching];
  const registry: Registry = createRegistry({
    services: Object.keys(LOCAL_PORTS),
    discovery: () => config.current.discovery,
    table: () => config.current.registry,
    version: env.npm_package_version ?? '0.1.0',
    log,
  });
  await registry.start();
  health.addCheck('registry', registry.check);
  closers.push(() => registry.close());

  let db: Pool | undefined;
  if (options.migrations) {
    const url = config.current.database.url;
    if (url === undefined) throw new Error(`${options.name} needs database.url (SOUK__DATABASE__URL)`);
    db = createPool(url, { max: config.current.database.poolSize, applicationName: options.name });
    db.on('error', (error) => log.warn({ err: error }, 'idle database connection failed'));
    const pool = db;
    closers.push(() => pool.end());
    const applied: string[] = [];
    // The chassis' own tables first: a service's tables may refer to them.
    for (const folder of [IDEMPOTENCY_MIGRATIONS, MESSAGING_MIGRATIONS, options.migrations].flat()) {
      applied.push(...(await migrate(pool, folder)));
    }
    if (applied.length > 0) log.info({ applied }, 'database migrated');
    health.addCheck('database', async () => {
      await pool.query('SELECT 1');
    });
  }
  const retention =
    db === undefined
      ? undefined
      : new RetentionWorker({ db, log, intervalMs: () => config.current.retention.intervalMs });
  retention?.add({
    name: 'idempotency-keys',
    keepMs: () => config.current.retention.idempotencyKeysMs,
    prune: pruneExpiredIdempotencyKeys,
  });
  retention?.add({
    name: 'sent-events',
    keepMs: () => config.current.retention.sentEventsMs,
    prune: pruneSentOutbox,
  });
  retention?.add({ name: 'inbox', keepMs: () => config.current.retention.inboxMs, prune: pruneInbox });

  const messaging = createServiceMessaging(options.name, config.current, db, log);
  if (messaging !== undefined) {
    closers.push(() => messaging.close());
    health.addCheck('messaging', () => messaging.check());
    messaging.registerMetrics(metrics);
  }
  const outbox = messaging?.outbox ?? new Outbox(`souk/${options.name}`);

  const upstreams = new Map<ServiceName, UpstreamClient>();
  const policyFor = (name: string) => config.current.upstreams[name] ?? parseDefaultPolicy();
  config.onChange(() => {
    for (const [name, client] of upstreams) client.configure(policyFor(name));
  });
  closers.push(() => Promise.all([...upstreams.values()].map((client) => client.close())).then(() => {}));

  app.addHook('onClose', async () => {
    for (const close of closers.toReversed()) {
      try {
        await close();
      } catch (error) {
        log.warn({ err: error }, 'a resource failed to close');
      }
    }
  });

  const advertised: { grpcUrl?: string } = {};
  let stopping: Promise<void> | undefined;
  const workers: Worker[] = retention === undefined ? [] : [retention];
  const service: Service<ServiceConfig<P>> = {
    name: options.name,
    app,
    log,
    config,
    health,
    identity,
    registry,
    outbox,
    subscribe(subscription) {
      if (messaging === undefined) {
        throw new Error(`${options.name} subscribes to events but has no message transport configured`);
      }
      void messaging.subscribe(subscription);
    },
    get db() {
      if (db === undefined) throw new Error(`${options.name} was created without a database`);
      return db;
    },
    upstream(name) {
      let client = upstreams.get(name);
      if (client === undefined) {
        client = new UpstreamClient(name, registry, policyFor(name));
        upstreams.set(name, client);
      }
      return client;
    },
    onClose(close) {
      closers.push(close);
    },
    addWorker(worker) {
      workers.push(worker);
    },
    advertise(extra) {
      Object.assign(advertised, extra);
    },
    retain(rule) {
      if (retention === undefined) throw new Error(`${options.name} was created without a database`);
      retention.add(rule);
    },
    async start() {
      const { host, port } = config.current.http;
      await messaging?.start();
      const address = await app.listen({ host, port });
      await registry.register({
        ...advertised,
        service: options.name,
        url: config.current.http.advertiseUrl ?? address,
      });
      for (const worker of workers) await worker.start();
      log.info({ address }, `${options.name} ready`);
      return address;
    },
    stop() {
      stopping ??= (async () => {
        health.startDraining();
        await registry.deregister();
        for (const worker of workers.toReversed()) {
          await worker
            .stop()
            .catch((error: unknown) =>
              log.warn({ err: error, worker: worker.name }, 'worker failed to stop'),
            );
        }
        await app.close();
      })();
      return stopping;
    },
  };
  return service;
}

/** The transport the profile implies, when its address is configured; none means events wait in the outbox. */
function createServiceMessaging(
  name: ServiceName,
  config: Static<TObject<BaseConfigProperties>>,
  db: Pool | undefined,
  log: Logger,
): Messaging | undefined {
  const { messaging, profile } = config;
  const transport = messaging.transport ?? (profile === 'distributed' ? 'amqp' : 'postgres');
  if (transport === 'postgres' && messaging.busUrl === undefined) return undefined;
  return createMessaging({
    transport,
    busUrl: messaging.busUrl,
    amqpUrl: messaging.amqpUrl,
    namespace: messaging.namespace,
    relay: messaging.relay,
    db,
    source: `souk/${name}`,
    log,
    migrate: false,
  });
}

const parseDefaultPolicy = () =>
  ({
    timeoutMs: 5000,
    retries: 2,
    retryBaseDelayMs: 50,
    breaker: { consecutiveFailures: 5, halfOpenAfterMs: 5000 },
    bulkhead: { limit: 128, queue: 512 },
  }) satisfies ResiliencePolicy;

/** Bodies are validated strictly (no type coercion, unknown fields rejected); params and query strings are
 * strings on the wire, so those are coerced to the declared types. Every route, with a schema or without,
 * first refuses text that cannot be stored and keys that would change a prototype. */
function installValidation(app: App): void {
  app.addHook('preValidation', async (request) => checkInput(request));
  const common = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false } as const;
  const body = new Ajv({ ...common, coerceTypes: false });
  const query = new Ajv({ ...common, coerceTypes: 'array' });
  addFormats.default(body);
  addFormats.default(query);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? body : query).compile(schema));
}
