// Liveness says the process runs; readiness says it can serve: every dependency answers and it is not draining.
import { withTimeout } from '@souk/kit';
import type { FastifyInstance } from 'fastify';

/**
 * Throws when the dependency is down. Resolving `{ degraded }` says it works but needs a person's attention:
 * the instance stays ready (taking it out of service would not help), and the reason shows in the details.
 */
export type HealthCheck = () => Promise<void | { degraded: string }>;

/** What `/health/info` says about this instance: the fleet page shows it beside its health. */
export interface InstanceInfo {
  service: string;
  version: string;
  startedAt: Date;
}

export class Health {
  readonly #checks = new Map<string, HealthCheck>();
  readonly #info: InstanceInfo | undefined;
  #draining = false;
  readonly #onDrain: (() => void)[] = [];

  constructor(info?: InstanceInfo) {
    this.#info = info;
  }

  addCheck(name: string, check: HealthCheck): void {
    this.#checks.set(name, check);
  }

  startDraining(): void {
    if (this.#draining) return;
    this.#draining = true;
    for (const listener of this.#onDrain) listener();
  }

  /** Tells `listener` the moment draining starts: for a readiness of its own (gRPC health) that polls slowly. */
  onDrain(listener: () => void): void {
    this.#onDrain.push(listener);
  }

  async readiness(): Promise<{ ready: boolean; checks: Record<string, string> }> {
    const checks: Record<string, string> = {};
    await Promise.all(
      [...this.#checks].map(async ([name, check]) => {
        try {
          const result = await withTimeout(2000, () => check());
          checks[name] = result === undefined ? 'up' : `degraded: ${result.degraded}`;
        } catch (error) {
          checks[name] = `down: ${error instanceof Error ? error.message : String(error)}`;
        }
      }),
    );
    if (this.#draining) checks.process = 'draining';
    const serving = (state: string) => state === 'up' || state.startsWith('degraded');
    return { ready: !this.#draining && Object.values(checks).every(serving), checks };
  }

  routes(app: FastifyInstance): void {
    const hide = { schema: { hide: true } };
    app.get('/health/live', hide, async () => ({ status: 'up' }));
    app.get('/health/info', hide, async () => {
      const info = this.#info;
      if (info === undefined) return { pid: process.pid };
      return {
        service: info.service,
        version: info.version,
        startedAt: info.startedAt.toISOString(),
        uptimeSeconds: Math.round((Date.now() - info.startedAt.getTime()) / 1000),
        pid: process.pid,
        draining: this.#draining,
      };
    });
    app.get('/health/ready', hide, async (_request, reply) => {
      const { ready, checks } = await this.readiness();
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'up' : 'down', checks });
    });
  }
}
