// The local profile's registry: one instance per service, at the address the config's `registry` table gives
// (the supervisor writes that table from its topology).
import Type, { type Static } from 'typebox';
import { BalancedRegistry, Balancer, defaultBalancing } from './balancer.ts';
import type { ServiceInstance } from './index.ts';

/** Service name → its base URL, or `{url, grpcUrl}` when it also serves gRPC. */
export const AddressTable = Type.Record(
  Type.String(),
  Type.Union([Type.String(), Type.Object({ url: Type.String(), grpcUrl: Type.Optional(Type.String()) })]),
  {
    default: {},
    description:
      "The static registry's address table (discovery.kind static), written by the supervisor; live.",
  },
);
export type AddressTable = Static<typeof AddressTable>;

export class StaticRegistry extends BalancedRegistry {
  readonly #table: () => AddressTable;

  /** `table` is read on every call, so a hot-reloaded address table takes effect at once. */
  constructor(table: () => AddressTable, balancer = new Balancer(defaultBalancing)) {
    super(balancer);
    this.#table = table;
  }

  async start(): Promise<void> {}

  services(): readonly string[] {
    return Object.keys(this.#table());
  }

  instances(service: string): readonly ServiceInstance[] {
    const entry = this.#table()[service];
    if (entry === undefined) return [];
    const { url, grpcUrl } = typeof entry === 'string' ? { url: entry, grpcUrl: undefined } : entry;
    // The url is the id: a reloaded table names a new instance, with no ejection carried over.
    return [
      {
        id: url,
        service,
        url,
        ...(grpcUrl === undefined ? {} : { grpcUrl }),
        version: 'static',
        startedAt: '',
      },
    ];
  }

  async register(): Promise<void> {}

  async deregister(): Promise<void> {}

  async close(): Promise<void> {}
}
