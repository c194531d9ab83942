// createService(): the chassis every Souk service stands on, composed of plugins in a fixed order — config,
// tracing, metrics, http, health, registry, database, messaging, upstreams, admin — each closing what it opens;
// main.ts then only adds routes, and runMain() runs the process.
import type { Registry as MetricsRegistry } from 'prom-client';
import type { TProperties } from 'typebox';
import type { ConfigSource, LiveConfig } from './config.ts';
import { configSourceFor } from './config-sources/index.ts';
import type { Pool } from './db.ts';
import type { Health } from './health.ts';
import type { IdentitySigner } from './identity.ts';
import type { Logger } from './logger.ts';
import type { Outbox, Subscription } from './messaging/index.ts';
import type { Registry } from './registry/index.ts';
import { registerRegistryMetrics } from './registry/registry-metrics.ts';
import type { UpstreamClient } from './resilience.ts';
import type { RetentionRule } from './retention.ts';
import { adminPlugin } from './plugins/admin.ts';
import { Closers } from './plugins/closers.ts';
import { configPlugin, type ServiceConfig, type ServiceName } from './plugins/config.ts';
import { databasePlugin } from './plugins/database.ts';
import { healthPlugin } from './plugins/health.ts';
import { httpPlugin, type App, type FrontHandler } from './plugins/http.ts';
import { messagingPlugin } from './plugins/messaging.ts';
import { metricsPlugin, metricsRegistry } from './plugins/metrics.ts';
import { registryPlugin } from './plugins/registry.ts';
import { tracingPlugin } from './plugins/tracing.ts';
import { upstreamsPlugin } from './plugins/upstreams.ts';

export interface ServiceOptions<P extends TProperties> {
  name: ServiceName;
  /** One sentence: what the service is for. Shown in the OpenAPI document. */
  description: string;
  /** The service's own configuration, beside the chassis' (http, log, database, internal, registry). */
  config?: P;
  /** Folders of `NNN_name.sql` files, applied in order; when given, the service owns a database. */
  migrations?: URL | readonly URL[];
  /**
   * Without `database.url`, run without the database instead of refusing to start: for a service whose database
   * holds only the chassis' tables (the gateway's admin audit), so that tests need not give it one.
   */
  databaseOptional?: boolean;
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
  /** Lets `handler` take requests before fastify does (the gateway's proxy fast path); one handler. */
  handleFirst(handler: FrontHandler): void;
  readonly log: Logger;
  readonly config: LiveConfig<C>;
  readonly health: Health;
  readonly identity: IdentitySigner;
  readonly registry: Registry;
  /** The Prometheus registry `/metrics` serves; a service adds its own metrics here. */
  readonly metrics: MetricsRegistry;
  /** The service's database; only when it was created with migrations. */
  readonly db: Pool;
  /** Whether it has one (with `databaseOptional`, it may run without). */
  readonly hasDatabase: boolean;
  /** Events to publish, added in the transaction of the change they announce; only with a database. */
  readonly outbox: Outbox;
  /** Consumes events as a subscriber group, from start() on. Handlers should use `once()` (the inbox). */
  subscribe(subscription: Subscription): void;
  /** A resilient client for another service, its policy from `upstreams.<name>` in config. */
  upstream(name: ServiceName): UpstreamClient;
  /** The clients made so far, with their breakers' state and recent failures. */
  upstreams(): readonly UpstreamClient[];
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
  const { name } = options;
  const env = options.env ?? process.env;
  const metrics = metricsRegistry(name);
  const source = options.configSource ?? configSourceFor(name, env);
  const {
    config,
    schema,
    log,
    stop: stopWatching,
  } = await configPlugin({ name, settings: options.config, source, env, metrics });
  const closers = new Closers(log);
  closers.add(stopWatching);
  await tracingPlugin({ name, env, log, closers });

  const { app, identity, handleFirst } = await httpPlugin({
    name,
    description: options.description,
    log,
    secret: config.current.internal.secret,
    acceptsIdentity: options.acceptsIdentity !== false,
  });
  const health = healthPlugin(app, { service: name, version: env.npm_package_version ?? '0.1.0' });
  metricsPlugin(app, metrics);
  const registry = await registryPlugin({ config, env, log, health, closers });
  registerRegistryMetrics(registry, metrics);
  const { migrations } = options;
  const withoutDatabase = options.databaseOptional === true && config.current.database.url === undefined;
  const database =
    migrations !== undefined && !withoutDatabase
      ? await databasePlugin({ name, migrations, config, log, health, closers })
      : undefined;
  const db = database?.db;
  const { messaging, outbox } = messagingPlugin({
    name,
    config: config.current,
    db,
    log,
    health,
    metrics,
    closers,
  });
  const { upstream, upstreams } = upstreamsPlugin({ config, registry, closers, metrics });
  adminPlugin({ name, app, config, schema, source, env, db, messaging });
  app.addHook('onClose', () => closers.closeAll());

  const advertised: { grpcUrl?: string } = {};
  let stopping: Promise<void> | undefined;
  const workers: Worker[] = database === undefined ? [] : [database.retention];
  return {
    name,
    app,
    handleFirst,
    log,
    config,
    health,
    identity,
    registry,
    metrics,
    outbox,
    subscribe(subscription) {
      if (messaging === undefined) {
        throw new Error(`${name} subscribes to events but has no message transport configured`);
      }
      void messaging.subscribe(subscription);
    },
    get db() {
      if (db === undefined) throw new Error(`${name} was created without a database`);
      return db;
    },
    hasDatabase: db !== undefined,
    upstream,
    upstreams,
    onClose(close) {
      closers.add(close);
    },
    addWorker(worker) {
      workers.push(worker);
    },
    advertise(extra) {
      Object.assign(advertised, extra);
    },
    retain(rule) {
      if (database === undefined) throw new Error(`${name} was created without a database`);
      database.retention.add(rule);
    },
    async start() {
      const { host, port } = config.current.http;
      await messaging?.start();
      const address = await app.listen({ host, port });
      await registry.register({
        ...advertised,
        service: name,
        url: config.current.http.advertiseUrl ?? address,
      });
      for (const worker of workers) await worker.start();
      log.info({ address }, `${name} ready`);
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
}
