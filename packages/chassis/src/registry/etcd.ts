// The fleet's registry on etcd: each instance keeps its record alive under a lease, and every instance keeps a
// cache of all records, fed by a watch, so that choosing where a call goes never waits for etcd.
import { hostname } from 'node:os';
import type { Etcd3, IKeyValue, Lease, Watcher } from 'etcd3';
import { etcd3 } from '../heavy-modules.ts';
import type { Logger } from '../logger.ts';
import { BalancedRegistry, type Balancer } from './balancer.ts';
import type { Registration, ServiceInstance } from './index.ts';

const RECONNECT_BACKOFF = { duration: 500, next: () => RECONNECT_BACKOFF };

export const SERVICES_PREFIX = '/souk/services/';

export const serviceKey = (service: string, id: string) => `${SERVICES_PREFIX}${service}/${id}`;

export interface EtcdRegistryOptions {
  endpoints: readonly string[];
  leaseTtlSeconds: number;
  balancer: Balancer;
  log: Logger;
  /** Of the code this instance runs; part of its record. */
  version: string;
  /** How long to wait before trying again to load the records or to register, while etcd does not answer. */
  retryMs?: number;
}

export class EtcdRegistry extends BalancedRegistry {
  readonly #client: Etcd3;
  readonly #options: Required<EtcdRegistryOptions>;
  /** service → instance id → record. */
  readonly #cache = new Map<string, Map<string, ServiceInstance>>();
  readonly #lists = new Map<string, readonly ServiceInstance[]>();
  #watcher: Watcher | undefined;
  #watching = false;
  #own: { key: string; instance: ServiceInstance; lease?: Lease; registered: boolean } | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(options: EtcdRegistryOptions) {
    super(options.balancer);
    this.#options = { retryMs: 1000, ...options };
    this.#client = new (etcd3().Etcd3)({
      hosts: [...options.endpoints],
      dialTimeout: 2000,
      // A watch broken by an etcd restart reconnects within half a second, not the default's up to 30 s.
      faultHandling: { watchBackoff: RECONNECT_BACKOFF },
    });
  }

  /** Loads every record, then follows changes; when etcd does not answer, starts empty and keeps trying. */
  async start(): Promise<void> {
    try {
      await this.#load();
    } catch (error) {
      this.#options.log.warn(
        { err: error },
        'etcd is not answering; discovery starts empty and keeps trying',
      );
      this.#later(() => void this.start());
    }
  }

  services(): readonly string[] {
    return [...this.#cache.keys()];
  }

  instances(service: string): readonly ServiceInstance[] {
    return this.#lists.get(service) ?? [];
  }

  async register(registration: Registration): Promise<void> {
    const id = instanceId(registration.service, hostname(), process.pid);
    const instance: ServiceInstance = {
      id,
      service: registration.service,
      url: registration.url,
      ...(registration.grpcUrl === undefined ? {} : { grpcUrl: registration.grpcUrl }),
      version: this.#options.version,
      startedAt: new Date().toISOString(),
    };
    this.#own = { key: serviceKey(instance.service, id), instance, registered: false };
    await this.#grant();
  }

  async deregister(): Promise<void> {
    const own = this.#own;
    this.#own = undefined;
    if (own?.lease === undefined) return;
    try {
      await own.lease.revoke();
    } catch (error) {
      // The lease then expires within its TTL: late, but the record still goes.
      this.#options.log.warn({ err: error }, 'revoking the registration lease failed');
      own.lease.release();
    }
  }

  /** Stops following etcd. Does not revoke: a closed client's lease runs out within its TTL. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#own?.lease?.release();
    await this.#watcher?.cancel().catch(() => {});
    this.#client.close();
  }

  protected override health(): { degraded: string } | undefined {
    const problems: string[] = [];
    if (!this.#watching) problems.push('not following etcd; routing by the last known instances');
    if (this.#own !== undefined && !this.#own.registered) problems.push('this instance is not registered');
    return problems.length === 0 ? undefined : { degraded: problems.join('; ') };
  }

  async #load(): Promise<void> {
    const response = await this.#client.getAll().prefix(SERVICES_PREFIX).exec();
    this.#cache.clear();
    for (const kv of response.kvs) this.#put(kv);
    for (const service of new Set([...this.#lists.keys(), ...this.#cache.keys()])) this.#publish(service);
    const watcher = await this.#client
      .watch()
      .prefix(SERVICES_PREFIX)
      .startRevision((BigInt(response.header.revision) + 1n).toString())
      .create();
    if (this.#closed) {
      await watcher.cancel();
      return;
    }
    this.#watcher = watcher;
    this.#watching = true;
    watcher
      .on('put', (kv) => this.#publish(this.#put(kv)))
      .on('delete', (kv) => this.#publish(this.#delete(kv)))
      .on('connected', () => (this.#watching = true))
      .on('disconnected', () => (this.#watching = false))
      .on('error', (error) => {
        // A watch that cannot resume (its revision was compacted away) starts over from a fresh load.
        this.#options.log.warn({ err: error }, 'the registry watch failed; reloading');
        this.#watching = false;
        this.#watcher = undefined;
        void watcher.cancel().catch(() => {});
        void this.start();
      });
  }

  /** Grants a lease and puts this instance's record under it; on failure or loss of the lease, tries again. */
  async #grant(): Promise<void> {
    const own = this.#own;
    if (own === undefined || this.#closed) return;
    const lease = this.#client.lease(this.#options.leaseTtlSeconds);
    own.lease = lease;
    lease.on('lost', (error) => {
      if (this.#own !== own || this.#closed) return;
      own.registered = false;
      this.#options.log.warn({ err: error }, 'the registration lease was lost; registering again');
      this.#later(() => void this.#grant());
    });
    try {
      await lease.put(own.key).value(JSON.stringify(own.instance));
      own.registered = true;
      this.#options.log.info({ key: own.key }, 'registered in etcd');
    } catch (error) {
      lease.release();
      if (this.#own !== own || this.#closed) return;
      this.#options.log.warn({ err: error }, 'registering in etcd failed; trying again');
      this.#later(() => void this.#grant());
    }
  }

  #put(kv: IKeyValue): string | undefined {
    const key = parseKey(kv.key.toString());
    if (key === undefined) return undefined;
    let instance: ServiceInstance;
    try {
      instance = JSON.parse(kv.value.toString()) as ServiceInstance;
    } catch {
      this.#options.log.warn({ key: kv.key.toString() }, 'a registry record is not JSON; ignored');
      return undefined;
    }
    if (typeof instance.url !== 'string') return undefined;
    let instances = this.#cache.get(key.service);
    if (instances === undefined) {
      instances = new Map();
      this.#cache.set(key.service, instances);
    }
    instances.set(key.id, { ...instance, id: key.id, service: key.service });
    return key.service;
  }

  #delete(kv: IKeyValue): string | undefined {
    const key = parseKey(kv.key.toString());
    if (key === undefined) return undefined;
    this.#cache.get(key.service)?.delete(key.id);
    return key.service;
  }

  /** Rebuilds the list that `instances()` hands out, so reads allocate nothing. */
  #publish(service: string | undefined): void {
    if (service === undefined) return;
    const instances = [...(this.#cache.get(service)?.values() ?? [])].sort((a, b) =>
      a.id.localeCompare(b.id),
    );
    this.#lists.set(service, instances);
  }

  #later(task: () => void): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      task();
    }, this.#options.retryMs);
    timer.unref();
    this.#timers.add(timer);
  }
}

/** `<service>-<hostname>-<pid>-<random4>`: unique per process, and says where it runs. */
export function instanceId(
  service: string,
  hostname: string,
  pid: number,
  random: () => number = Math.random,
): string {
  const suffix = Math.floor(random() * 0x10000)
    .toString(16)
    .padStart(4, '0');
  return `${service}-${hostname}-${pid}-${suffix}`;
}

function parseKey(key: string): { service: string; id: string } | undefined {
  if (!key.startsWith(SERVICES_PREFIX)) return undefined;
  const [service, id, ...rest] = key.slice(SERVICES_PREFIX.length).split('/');
  if (service === undefined || id === undefined || rest.length > 0 || service === '' || id === '')
    return undefined;
  return { service, id };
}
