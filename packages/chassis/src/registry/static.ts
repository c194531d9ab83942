// The local profile's registry: one instance per service, at the address the config's `registry` table gives.
import { BalancedRegistry, Balancer, defaultBalancing } from './balancer.ts';
import type { ServiceInstance } from './index.ts';

export class StaticRegistry extends BalancedRegistry {
  readonly #table: () => Record<string, string>;

  /** `table` is read on every call, so a hot-reloaded address table takes effect at once. */
  constructor(table: () => Record<string, string>, balancer = new Balancer(defaultBalancing)) {
    super(balancer);
    this.#table = table;
  }

  async start(): Promise<void> {}

  instances(service: string): readonly ServiceInstance[] {
    const url = this.#table()[service];
    // The url is the id: a reloaded table names a new instance, with no ejection carried over.
    return url === undefined ? [] : [{ id: url, service, url, version: 'static', startedAt: '' }];
  }

  async register(): Promise<void> {}

  async deregister(): Promise<void> {}

  async close(): Promise<void> {}
}
