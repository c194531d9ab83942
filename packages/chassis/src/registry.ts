// Service discovery. The local profile uses a static address table from config; the distributed profile
// plugs etcd or Kubernetes DNS in behind the same interface.
export interface Registry {
  /** The base URL of a healthy instance of `service`, e.g. `http://127.0.0.1:5001`. */
  resolve(service: string): string;
  register(instance: { service: string; url: string }): Promise<void>;
  deregister(): Promise<void>;
}

export class StaticRegistry implements Registry {
  readonly #table: () => Record<string, string>;

  /** `table` is read on every call, so a hot-reloaded address table takes effect at once. */
  constructor(table: () => Record<string, string>) {
    this.#table = table;
  }

  resolve(service: string): string {
    const url = this.#table()[service];
    if (url === undefined) throw new Error(`no address for service '${service}' in the registry`);
    return url;
  }

  async register(): Promise<void> {}

  async deregister(): Promise<void> {}
}
