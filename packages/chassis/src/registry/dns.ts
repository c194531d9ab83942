// The registry on Kubernetes: a headless Service's name resolves to the addresses of all its ready pods, so
// discovery is a periodic lookup of each service's name, and registration is the platform's job.
import { lookup } from 'node:dns/promises';
import type { Logger } from '../logger.ts';
import { BalancedRegistry, type Balancer } from './balancer.ts';
import type { ServiceInstance } from './index.ts';

/** All IPv4 addresses a name resolves to; the system resolver, so /etc/hosts and search domains apply. */
export type Resolve = (name: string) => Promise<string[]>;

const resolveAll: Resolve = async (name) =>
  (await lookup(name, { all: true, family: 4 })).map((entry) => entry.address);

export interface DnsRegistryOptions {
  /** The services to look up from the start; another is looked up once it is first asked for. */
  services: readonly string[];
  /** A URL with `{service}` for the service's name, e.g. `http://{service}.souk.svc.cluster.local:8080`. */
  pattern: string;
  refreshMs: number;
  balancer: Balancer;
  log: Logger;
  resolve?: Resolve;
}

export class DnsRegistry extends BalancedRegistry {
  readonly #options: DnsRegistryOptions & { resolve: Resolve };
  readonly #instances = new Map<string, readonly ServiceInstance[]>();
  readonly #failing = new Set<string>();
  readonly #services: Set<string>;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: DnsRegistryOptions) {
    super(options.balancer);
    this.#options = { resolve: resolveAll, ...options };
    this.#services = new Set(options.services);
    if (!options.pattern.includes('{service}')) {
      throw new Error(`discovery.dns.pattern '${options.pattern}' has no {service} in it`);
    }
  }

  async start(): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#options.refreshMs);
    this.#timer.unref();
  }

  /** Looks every service up again; a name that fails to resolve keeps its last known addresses. */
  async refresh(): Promise<void> {
    await Promise.all(
      [...this.#services].map(async (service) => {
        const template = new URL(this.#options.pattern.replaceAll('{service}', service));
        try {
          const addresses = await this.#options.resolve(template.hostname);
          this.#instances.set(
            service,
            addresses.toSorted().map((address) => {
              const url = new URL(template);
              url.hostname = address;
              const origin = url.origin;
              return { id: origin, service, url: origin, version: 'unknown', startedAt: '' };
            }),
          );
          this.#failing.delete(service);
        } catch (error) {
          if (!this.#failing.has(service)) {
            this.#options.log.warn({ err: error, service }, 'looking a service up in DNS failed');
          }
          this.#failing.add(service);
        }
      }),
    );
  }

  services(): readonly string[] {
    return [...this.#services];
  }

  instances(service: string): readonly ServiceInstance[] {
    if (!this.#services.has(service)) {
      this.#services.add(service);
      void this.refresh();
    }
    return this.#instances.get(service) ?? [];
  }

  async register(): Promise<void> {}

  async deregister(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.#timer);
  }

  protected override health(): { degraded: string } | undefined {
    if (this.#failing.size === 0) return undefined;
    return { degraded: `DNS lookups failing for ${[...this.#failing].join(', ')}; using the last addresses` };
  }
}
