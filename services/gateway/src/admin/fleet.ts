// The fleet as the registry knows it, each instance asked for its health and what it is: what the console's
// fleet page shows. An instance that died leaves the registry with its lease, and so this list.
import { withTimeout, type Registry, type ServiceInstance } from '@souk/chassis';

export interface FleetInstance {
  service: string;
  id: string;
  url: string;
  /** `up` or `down` as its readiness says, `unreachable` when it did not answer in time. */
  health: 'up' | 'down' | 'unreachable';
  checks: Record<string, string>;
  version: string | null;
  startedAt: string | null;
  uptimeSeconds: number | null;
}

interface Info {
  version?: string;
  startedAt?: string;
  uptimeSeconds?: number;
}

/** Every instance of every service, asked in parallel; each gets `timeoutMs` to answer. */
export async function fleetSnapshot(
  registry: Pick<Registry, 'services' | 'instances'>,
  timeoutMs: number,
): Promise<FleetInstance[]> {
  const instances = registry.services().flatMap((service) => registry.instances(service));
  const described = await Promise.all(instances.map((instance) => describe(instance, timeoutMs)));
  return described.sort((a, b) => a.service.localeCompare(b.service) || a.id.localeCompare(b.id));
}

async function describe(instance: ServiceInstance, timeoutMs: number): Promise<FleetInstance> {
  const get = (path: string) =>
    withTimeout(timeoutMs, async (signal) => {
      const response = await fetch(new URL(path, instance.url), { signal });
      return { status: response.status, body: await response.json() };
    });
  const [ready, info] = await Promise.allSettled([get('/health/ready'), get('/health/info')]);
  const about: Info = info.status === 'fulfilled' ? (info.value.body as Info) : {};
  const readiness =
    ready.status === 'fulfilled' ? (ready.value.body as { checks?: Record<string, string> }) : undefined;
  return {
    service: instance.service,
    id: instance.id,
    url: instance.url,
    health: ready.status === 'rejected' ? 'unreachable' : ready.value.status === 200 ? 'up' : 'down',
    checks: readiness?.checks ?? {},
    version: about.version ?? (instance.version === 'static' ? null : instance.version),
    startedAt: about.startedAt ?? (instance.startedAt === '' ? null : instance.startedAt),
    uptimeSeconds: about.uptimeSeconds ?? null,
  };
}
