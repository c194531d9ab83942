// Liveness says the process runs; readiness says it can serve: every dependency answers and it is not draining.
import type { FastifyInstance } from 'fastify';

export type HealthCheck = () => Promise<void>;

export class Health {
  readonly #checks = new Map<string, HealthCheck>();
  #draining = false;

  addCheck(name: string, check: HealthCheck): void {
    this.#checks.set(name, check);
  }

  startDraining(): void {
    this.#draining = true;
  }

  async readiness(): Promise<{ ready: boolean; checks: Record<string, string> }> {
    const checks: Record<string, string> = {};
    await Promise.all(
      [...this.#checks].map(async ([name, check]) => {
        try {
          await withTimeout(check(), 2000);
          checks[name] = 'up';
        } catch (error) {
          checks[name] = `down: ${error instanceof Error ? error.message : String(error)}`;
        }
      }),
    );
    if (this.#draining) checks.process = 'draining';
    return { ready: !this.#draining && Object.values(checks).every((state) => state === 'up'), checks };
  }

  routes(app: FastifyInstance): void {
    const hide = { schema: { hide: true } };
    app.get('/health/live', hide, async () => ({ status: 'up' }));
    app.get('/health/ready', hide, async (_request, reply) => {
      const { ready, checks } = await this.readiness();
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'up' : 'down', checks });
    });
  }
}

async function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
