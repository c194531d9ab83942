// Client-side balancing: least pending (or round robin) across the instances of a service, and ejection of an
// instance that keeps refusing connections, for a cool-down, so calls stop paying for it.
import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';
import type { HealthCheck } from '../health.ts';
import type { Registration, Registry, ServiceInstance } from './index.ts';

export const BalancingSettings = Type.Object(
  {
    balancing: Type.Union([Type.Literal('least-pending'), Type.Literal('round-robin')], {
      default: 'least-pending',
    }),
    ejection: Type.Object(
      {
        consecutiveFailures: Type.Integer({ minimum: 1, default: 3 }),
        cooldownMs: Type.Integer({ minimum: 0, default: 10_000 }),
      },
      { default: {} },
    ),
  },
  { default: {} },
);
export type BalancingSettings = Static<typeof BalancingSettings>;

const DEFAULT_BALANCING = Value.Default(BalancingSettings, {}) as BalancingSettings;
export const defaultBalancing = (): BalancingSettings => DEFAULT_BALANCING;

/**
 * `ok`: an answer, even a 500; `unreachable`: no connection (refused, reset before an answer), which counts
 * towards ejection; `error`: neither (a timeout, a cancelled call), which only ends the pending call.
 */
export type Outcome = 'ok' | 'unreachable' | 'error';

interface InstanceState {
  pending: number;
  failures: number;
  ejectedUntil: number;
}

export class Balancer {
  readonly #settings: () => BalancingSettings;
  readonly #now: () => number;
  /** Only instances with calls pending or failures counted have an entry, so departed ones leave none. */
  readonly #states = new Map<string, InstanceState>();
  readonly #turns = new Map<string, number>();

  /** `settings` is read on every choice, so a hot-reloaded strategy takes effect at once. */
  constructor(settings: () => BalancingSettings, now: () => number = Date.now) {
    this.#settings = settings;
    this.#now = now;
  }

  choose(
    service: string,
    instances: readonly ServiceInstance[],
    avoid?: ReadonlySet<string>,
  ): ServiceInstance | undefined {
    const open = avoid === undefined ? instances : instances.filter((instance) => !avoid.has(instance.id));
    if (open.length === 0) return undefined;
    const now = this.#now();
    const healthy = open.filter((instance) => (this.#states.get(instance.id)?.ejectedUntil ?? 0) <= now);
    // With every instance ejected, one may have recovered: trying is better than failing without a call.
    const candidates = healthy.length > 0 ? healthy : open;
    const turn = this.#turns.get(service) ?? 0;
    this.#turns.set(service, (turn + 1) % 1_000_000);
    if (this.#settings().balancing === 'round-robin') return candidates[turn % candidates.length];
    // Ties go by turn, so idle instances share the calls rather than the first one taking them all.
    let best: ServiceInstance | undefined;
    let fewest = Infinity;
    for (let k = 0; k < candidates.length; k++) {
      const candidate = candidates[(turn + k) % candidates.length]!;
      const pending = this.#states.get(candidate.id)?.pending ?? 0;
      if (pending < fewest) {
        best = candidate;
        fewest = pending;
      }
    }
    return best;
  }

  track(instance: ServiceInstance): (outcome: Outcome) => void {
    const state = this.#state(instance.id);
    state.pending++;
    let done = false;
    return (outcome) => {
      if (done) return;
      done = true;
      state.pending--;
      if (outcome === 'ok') {
        state.failures = 0;
        state.ejectedUntil = 0;
      } else if (outcome === 'unreachable') {
        state.failures++;
        const { consecutiveFailures, cooldownMs } = this.#settings().ejection;
        if (state.failures >= consecutiveFailures) state.ejectedUntil = this.#now() + cooldownMs;
      }
      if (state.pending === 0 && state.failures === 0) this.#states.delete(instance.id);
    };
  }

  #state(id: string): InstanceState {
    let state = this.#states.get(id);
    if (state === undefined) {
      state = { pending: 0, failures: 0, ejectedUntil: 0 };
      this.#states.set(id, state);
    }
    return state;
  }
}

/** No instance of the service is known (or every one was passed over). */
export class NoInstanceError extends Error {
  override name = 'NoInstanceError';
  readonly service: string;

  constructor(service: string) {
    super(`no instance of service '${service}' is known to the registry`);
    this.service = service;
  }
}

/** What every registry shares: balancing and ejection over the instances the subclass knows. */
export abstract class BalancedRegistry implements Registry {
  readonly #balancer: Balancer;

  constructor(balancer: Balancer) {
    this.#balancer = balancer;
  }

  abstract start(): Promise<void>;
  abstract services(): readonly string[];
  abstract instances(service: string): readonly ServiceInstance[];
  abstract register(registration: Registration): Promise<void>;
  abstract deregister(): Promise<void>;
  abstract close(): Promise<void>;
  readonly check: HealthCheck = async () => this.health();

  protected health(): { degraded: string } | undefined {
    return undefined;
  }

  pick(service: string, avoid?: ReadonlySet<string>): ServiceInstance {
    const instance = this.#balancer.choose(service, this.instances(service), avoid);
    if (instance === undefined) throw new NoInstanceError(service);
    return instance;
  }

  resolve(service: string): string {
    return this.pick(service).url;
  }

  track(instance: ServiceInstance): (outcome: Outcome) => void {
    return this.#balancer.track(instance);
  }
}
