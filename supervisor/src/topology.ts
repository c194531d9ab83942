// The services of Souk, their ports and roles: the one list the supervisor, the fleet, the CLI and the tests
// read. A new service is a folder under services/ plus one entry here; the chassis never sees this list.

export interface ServiceEntry {
  /** The folder under services/ and the name the service registers under. */
  readonly name: string;
  /** `edge` faces clients and starts last; `inner` services sit behind it. */
  readonly role: 'edge' | 'inner';
  /** Where it listens in the local profile (plus the port offset); the fleet gives instances free ports. */
  readonly port: number;
  /** Where its gRPC server listens in the local profile, when it has one. */
  readonly grpcPort?: number;
  /** Whether it owns a database (one per service, created by the supervisor). */
  readonly database: boolean;
  /** The fleet starts it, and waits for it, before the other inner services, which resolve it as they start. */
  readonly startsFirst?: boolean;
  /** It alone is given the admin's credentials, to create that account. */
  readonly admin?: boolean;
  /** It seeds the demo catalog on its first start. */
  readonly seedsDemoCatalog?: boolean;
  /** Event types it publishes and consumes; documentation, checked by nothing. */
  readonly publishes?: readonly string[];
  readonly consumes?: readonly string[];
}

export const TOPOLOGY = [
  // Its database holds only the audit of the admin actions it performs (its config, the break panel).
  { name: 'gateway', role: 'edge', port: 8080, database: true },
  {
    name: 'users',
    role: 'inner',
    port: 5001,
    grpcPort: 50051,
    database: true,
    startsFirst: true,
    admin: true,
    publishes: ['user.registered'],
  },
  {
    name: 'orders',
    role: 'inner',
    port: 5002,
    database: true,
    publishes: ['order.created', 'order.confirmed', 'order.cancelled'],
  },
  {
    name: 'payments',
    role: 'inner',
    port: 5003,
    database: true,
    publishes: ['payment.succeeded', 'payment.failed', 'payment.refunded'],
  },
  { name: 'inventory', role: 'inner', port: 5004, database: true, seedsDemoCatalog: true },
  {
    name: 'notifications',
    role: 'inner',
    port: 5005,
    database: true,
    consumes: ['order.*', 'payment.*', 'user.registered'],
  },
] as const satisfies readonly ServiceEntry[];

export type ServiceName = (typeof TOPOLOGY)[number]['name'];

export const SERVICE_NAMES: readonly ServiceName[] = TOPOLOGY.map((entry) => entry.name);

export const isServiceName = (name: string): name is ServiceName =>
  (SERVICE_NAMES as readonly string[]).includes(name);

export function serviceEntry(name: ServiceName): ServiceEntry {
  return TOPOLOGY.find((entry) => entry.name === name)!;
}

/** The services behind the gateway, in the order of the list. */
export type InnerService = Extract<(typeof TOPOLOGY)[number], { role: 'inner' }>['name'];
export const INNER_SERVICES = TOPOLOGY.filter((entry) => entry.role === 'inner').map(
  (entry) => entry.name,
) as readonly InnerService[];

/** Where a service's HTTP server listens in the local profile, with every port shifted by `offset`. */
export const localPort = (name: ServiceName, offset = 0): number => serviceEntry(name).port + offset;

/** Where its gRPC server listens in the local profile, if it has one. */
export function localGrpcPort(name: ServiceName, offset = 0): number | undefined {
  const port = serviceEntry(name).grpcPort;
  return port === undefined ? undefined : port + offset;
}

/** The local profile's address table, which the supervisor hands every service as its static registry. */
export function localRegistry(offset = 0): Record<string, { url: string; grpcUrl?: string }> {
  return Object.fromEntries(
    TOPOLOGY.map(({ name }) => {
      const grpcPort = localGrpcPort(name, offset);
      return [
        name,
        {
          url: `http://127.0.0.1:${localPort(name, offset)}`,
          ...(grpcPort === undefined ? {} : { grpcUrl: `127.0.0.1:${grpcPort}` }),
        },
      ];
    }),
  );
}
