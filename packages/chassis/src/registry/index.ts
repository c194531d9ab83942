// Service discovery: where the instances of a service are, which one a call goes to, and this instance's own
// registration. Static (local profile), etcd (fleet) and DNS (Kubernetes) sit behind one interface.
import Type, { type Static } from 'typebox';
import type { HealthCheck } from '../health.ts';
import type { Logger } from '../logger.ts';
import { Balancer, BalancingSettings, type Outcome } from './balancer.ts';
import { DnsRegistry } from './dns.ts';
import { EtcdRegistry } from './etcd.ts';
import { StaticRegistry, type AddressTable } from './static.ts';

export { BalancedRegistry, Balancer, BalancingSettings, NoInstanceError, type Outcome } from './balancer.ts';
export { DnsRegistry } from './dns.ts';
export { EtcdRegistry, SERVICES_PREFIX, serviceKey } from './etcd.ts';
export { AddressTable, StaticRegistry } from './static.ts';

/** One running instance, as it registers itself (the value under `/souk/services/<service>/<id>` in etcd). */
export interface ServiceInstance {
  id: string;
  service: string;
  url: string;
  grpcUrl?: string;
  version: string;
  startedAt: string;
}

export type Registration = Pick<ServiceInstance, 'service' | 'url' | 'grpcUrl'>;

export interface Registry {
  /** Loads the known instances, so that the first call can already be routed. */
  start(): Promise<void>;
  /** The services known now (those with instances, and those asked for or seen before); synchronous. */
  services(): readonly string[];
  /** The instances of `service` known now; synchronous, from a cache. */
  instances(service: string): readonly ServiceInstance[];
  /** The instance the next call to `service` should go to, passing over the ids in `avoid`; gRPC callers use its grpcUrl. */
  pick(service: string, avoid?: ReadonlySet<string>): ServiceInstance;
  /** The base URL of the instance the next call should go to, e.g. `http://127.0.0.1:5001`. */
  resolve(service: string): string;
  /** Counts a call to `instance` as pending until the returned function reports how it ended. */
  track(instance: ServiceInstance): (outcome: Outcome) => void;
  /** Announces this instance, once it is ready to serve. */
  register(registration: Registration): Promise<void>;
  /** Withdraws this instance at once; called first when draining. */
  deregister(): Promise<void>;
  /** For readiness: degraded when discovery serves from a stale set or this instance is not registered. */
  readonly check: HealthCheck;
  close(): Promise<void>;
}

export const DiscoverySettings = Type.Object(
  {
    /** `static`: the `registry` address table, one instance per service; `etcd`: the fleet; `dns`: Kubernetes. */
    kind: Type.Union([Type.Literal('static'), Type.Literal('etcd'), Type.Literal('dns')], {
      default: 'static',
      description: 'Which registry; read once at start (a change needs a restart).',
    }),
    etcd: Type.Object(
      {
        endpoints: Type.Array(Type.String(), { minItems: 1, default: ['http://127.0.0.1:2379'] }),
        leaseTtlSeconds: Type.Integer({ minimum: 1, default: 10 }),
      },
      { default: {} },
    ),
    dns: Type.Object(
      {
        /** A URL with `{service}` for the name of the service's headless Service. */
        pattern: Type.String({ default: 'http://{service}:8080' }),
        refreshMs: Type.Integer({ minimum: 100, default: 5000 }),
        /** Looked up from the start; a service asked for that is not listed is looked up from then on. */
        services: Type.Array(Type.String(), { default: [] }),
      },
      { default: {}, description: 'Kubernetes discovery by DNS name; read once at start.' },
    ),
    ...BalancingSettings.properties,
  },
  { default: {} },
);
export type DiscoverySettings = Static<typeof DiscoverySettings>;

/** The registry the settings name; balancing and the static table are read live, the kind only here. */
export function createRegistry(options: {
  discovery: () => DiscoverySettings;
  table: () => AddressTable;
  version: string;
  log: Logger;
}): Registry {
  const settings = options.discovery();
  const balancer = new Balancer(options.discovery);
  switch (settings.kind) {
    case 'static':
      return new StaticRegistry(options.table, balancer);
    case 'etcd':
      return new EtcdRegistry({ ...settings.etcd, balancer, log: options.log, version: options.version });
    case 'dns':
      return new DnsRegistry({ ...settings.dns, balancer, log: options.log });
  }
}
