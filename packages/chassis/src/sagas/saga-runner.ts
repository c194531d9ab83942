// The saga orchestrator, as a state machine: every transition is committed (through the fenced store) before
// the next action, a renewed lease says which runner drives a saga, and a periodic scan picks up sagas nobody
// drives, so every saga ends COMPLETED or COMPENSATED whatever crashes. A step whose outcome is unknown is
// retried with the same idempotency key; only a rejection or a spent attempt budget compensates.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { Pool, Queryable, Transaction } from '../db.ts';
import { backoffDelay, withTimeout } from '@souk/kit';
import { UpstreamUnavailableError } from '../resilience.ts';
import { sleep } from '../messaging/wakeups.ts';
import { startSagaAttempt } from '../tracing/saga.ts';
import {
  StepInProgress,
  StepRejected,
  type SagaDefinition,
  type SagaStatus,
  type SagaStep,
  type StepContext,
} from './saga.ts';
import { SagaMetrics } from './saga-metrics.ts';
import { LeaseLost, SagaStore, type SagaFence, type SagaRow, type StepDirection } from './store.ts';

export interface SagaRunnerOptions {
  db: Pool;
  log: Logger;
  /**
   * How long a runner owns a saga without renewing (it renews while it drives it); another runner takes over
   * after it. Must be longer than every step's timeout.
   */
  leaseMs?: number;
  /** How often unfinished sagas without a live owner are looked for. */
  scanIntervalMs?: number;
  /** Backoff between attempts (exponential, with jitter). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  defaultStepTimeoutMs?: number;
  defaultStepAttempts?: number;
  /**
   * How long a step waits for a participant it cannot reach (breaker open, connection refused, bulkhead full)
   * before such failures count against its attempts.
   */
  unreachedPatienceMs?: number;
  /** An unfinished saga older than this counts as past its deadline in the metrics. */
  deadlineMs?: number;
  /**
   * The settings above as they are now (a live configuration): read at each use, so a change applies from the
   * next scan, lease or attempt on, without a restart. Keep leaseMs longer than every step timeout.
   */
  live?: () => Partial<SagaRunnerSettings>;
  /** Where to publish saga durations and the unfinished sagas; none by default. */
  metrics?: MetricsRegistry;
}

/** What a live configuration may change while the runner runs. */
export type SagaRunnerSettings = Required<Omit<SagaRunnerOptions, 'db' | 'log' | 'live' | 'metrics'>>;

/** A saga its creator holds from the start: driven at once after its transaction commits, without acquiring it. */
export interface HeldSaga {
  /** Call once the transaction that began the saga committed. */
  run(): Promise<void>;
}

/** Where a drive stands: the saga as last committed, and the step whose first attempt is recorded as started. */
interface Position {
  saga: SagaRow | undefined;
  started?: number;
}

type StepOutcome =
  | { kind: 'succeeded'; patch: object }
  | { kind: 'rejected'; reason: string }
  | { kind: 'exhausted'; reason: string }
  | { kind: 'stopped' };

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The participant could not take the call (its breaker open, its process restarting, its bulkhead full) or is
 * still busy with an earlier attempt: waiting for it is not a failed attempt. A timeout is: it may have acted.
 */
const worthWaitingFor = (error: unknown) =>
  error instanceof StepInProgress ||
  (error instanceof UpstreamUnavailableError && error.reason !== 'timeout');

export class SagaRunner {
  readonly #initial: SagaRunnerSettings & Pick<SagaRunnerOptions, 'db' | 'log' | 'live'>;
  readonly #store: SagaStore;
  readonly #metrics: SagaMetrics | undefined;
  readonly #owner = `${process.pid}:${randomUUID()}`;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- definitions of many state types live here
  readonly #definitions = new Map<string, SagaDefinition<any>>();
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #stopping = new AbortController();
  #scanTimer: NodeJS.Timeout | undefined;

  constructor(options: SagaRunnerOptions) {
    this.#initial = {
      leaseMs: 30_000,
      scanIntervalMs: 2_000,
      retryBaseMs: 100,
      retryMaxMs: 5_000,
      defaultStepTimeoutMs: 10_000,
      defaultStepAttempts: 5,
      unreachedPatienceMs: 60_000,
      deadlineMs: 600_000,
      ...options,
    };
    const { leaseMs, defaultStepTimeoutMs } = this.#options;
    if (leaseMs <= defaultStepTimeoutMs)
      throw new Error(
        `saga lease leaseMs (${leaseMs} ms) must be longer than the step timeout defaultStepTimeoutMs (${defaultStepTimeoutMs} ms)`,
      );
    this.#store = new SagaStore(options.db);
    this.#metrics =
      options.metrics &&
      new SagaMetrics(options.metrics, {
        db: options.db,
        deadlineMs: this.#options.deadlineMs,
        types: () => [...this.#definitions.keys()],
      });
  }

  /** The settings in force now: those given, under what the live configuration says. */
  get #options(): SagaRunnerSettings & Pick<SagaRunnerOptions, 'db' | 'log'> {
    const live = this.#initial.live?.();
    return live === undefined ? this.#initial : { ...this.#initial, ...live };
  }

  /** Aborted by `stop()`; every wait of this runner listens to it. */
  get stopSignal(): AbortSignal {
    return this.#stopping.signal;
  }

  register<S>(definition: SagaDefinition<S>): void {
    const { leaseMs } = this.#options;
    for (const step of definition.steps)
      if (step.timeoutMs !== undefined && step.timeoutMs >= leaseMs)
        throw new Error(
          `saga lease leaseMs (${leaseMs} ms) must be longer than the timeoutMs (${step.timeoutMs} ms) of step '${step.name}' of saga '${definition.type}'`,
        );
    this.#definitions.set(definition.type, definition);
  }

  /** Records a new saga in the caller's transaction; call `run(id)` once that transaction committed. */
  async begin<S extends object>(tx: Queryable, type: string, id: string, state: S): Promise<void> {
    if (!this.#definitions.has(type)) throw new Error(`no saga '${type}' is registered`);
    await this.#store.create(tx, id, type, state);
  }

  /**
   * Records a new saga in the caller's transaction, leased to this runner with its first attempt recorded as
   * started, so that the caller's commit is the saga's first commit too; call `run()` on the result once that
   * transaction committed. If this process dies before, the lease runs out and another runner resumes it.
   */
  async beginHeld<S extends object>(tx: Transaction, type: string, id: string, state: S): Promise<HeldSaga> {
    const definition = this.#definitions.get(type);
    if (definition === undefined) throw new Error(`no saga '${type}' is registered`);
    const saga = await this.#store.createHeld(tx, { id, type, state }, this.#owner, this.#options.leaseMs);
    const started = await this.#startFirstAttempt(tx, saga, definition);
    return { run: () => this.#run(id, { saga, started }) };
  }

  /** Merges `patch` into a saga's state in the caller's transaction; the runner sees it at the next step. */
  async patchState<S extends object>(tx: Queryable, id: string, patch: Partial<S>): Promise<void> {
    await this.#store.mergeState(tx, id, patch);
  }

  /** Drives the saga until it is terminal, another runner owns it, or this one stops. Safe to call more than once. */
  run(id: string): Promise<void> {
    return this.#run(id);
  }

  #run(id: string, held?: Position): Promise<void> {
    const running = this.#inFlight.get(id);
    if (running) return running;
    const execution = this.#drive(id, held)
      .catch((error: unknown) =>
        error instanceof LeaseLost
          ? this.#options.log.warn({ sagaId: id }, 'saga lease lost; another runner drives it now')
          : this.#options.log.error({ err: error, sagaId: id }, 'saga run interrupted'),
      )
      .finally(() => this.#inFlight.delete(id));
    this.#inFlight.set(id, execution);
    return execution;
  }

  /**
   * An operator's resume of a stuck saga: takes it from whoever holds its lease (a runner that hangs or died) and
   * drives it here now, `also` (the audit) in the same transaction. Resolves with the status it had, or
   * undefined when there is no such saga; a finished one is left as it is.
   */
  async resume(id: string, also: (tx: Transaction) => Promise<void>): Promise<SagaStatus | undefined> {
    const status = await this.#store.takeBack(id, also);
    if (status === 'RUNNING' || status === 'COMPENSATING') void this.run(id);
    return status;
  }

  /** Resumes every unfinished saga now, then keeps looking for orphaned ones. */
  start(): void {
    const scan = () => {
      this.#resumeOrphans()
        .catch((error: unknown) => this.#options.log.warn({ err: error }, 'saga scan failed'))
        .finally(() => {
          if (!this.#stopping.signal.aborted)
            this.#scanTimer = setTimeout(scan, this.#options.scanIntervalMs);
        });
    };
    scan();
  }

  /**
   * Hands every saga over: in-flight attempts are aborted but not counted as failed, nothing is compensated,
   * and the leases are released so another runner continues at once. A stop is not a failure.
   */
  async stop(): Promise<void> {
    this.#stopping.abort();
    clearTimeout(this.#scanTimer);
    await Promise.allSettled([...this.#inFlight.values()]);
    await this.#store
      .release(this.#owner)
      .catch((error: unknown) => this.#options.log.warn({ err: error }, 'saga leases not released'));
  }

  /** Resolves when nothing runs here: for tests and graceful shutdown. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight.values()]);
  }

  async #resumeOrphans(): Promise<void> {
    for (const id of await this.#store.unowned(100)) void this.run(id);
  }

  async #drive(id: string, held?: Position): Promise<void> {
    if (this.#stopping.signal.aborted) {
      if (held) await this.#store.release(this.#owner, id);
      return;
    }
    let position: Position = held ?? {
      saga: await this.#store.acquire(id, this.#owner, this.#options.leaseMs),
    };
    if (position.saga === undefined) return;
    const definition = this.#definitions.get(position.saga.type);
    if (definition === undefined) throw new Error(`saga ${id} has unknown type ${position.saga.type}`);
    const lease = this.#keepLease(id);
    try {
      for (let saga: SagaRow | undefined = position.saga; saga !== undefined; saga = position.saga)
        position =
          saga.status === 'RUNNING'
            ? await this.#advance(saga, position.started, definition, lease.signal)
            : { saga: await this.#compensateNext(saga, definition, lease.signal) };
    } finally {
      lease.end();
      if (this.#stopping.signal.aborted) await this.#store.release(this.#owner, id);
    }
  }

  /**
   * Renews the lease on a timer while the saga is driven. The signal aborts when the runner stops, or with
   * LeaseLost when a renewal finds the saga is no longer this runner's.
   */
  #keepLease(id: string): { signal: AbortSignal; end(): void } {
    const { leaseMs, log } = this.#options;
    const driving = new AbortController();
    const stopped = () => driving.abort(this.#stopping.signal.reason);
    this.#stopping.signal.addEventListener('abort', stopped, { once: true });
    const renewals = new AbortController();
    void (async () => {
      for (;;) {
        await sleep(Math.max(leaseMs / 3, 50), renewals.signal);
        if (renewals.signal.aborted) return;
        const kept = await this.#store.renew(id, this.#owner, leaseMs).catch((error: unknown) => {
          log.warn({ err: error, sagaId: id }, 'saga lease not renewed; retrying');
          return true;
        });
        if (!kept) return driving.abort(new LeaseLost(id));
      }
    })();
    return {
      signal: driving.signal,
      end: () => {
        renewals.abort();
        this.#stopping.signal.removeEventListener('abort', stopped);
      },
    };
  }

  /**
   * Runs the saga's next step and records its outcome. `started` is the step whose first attempt is already
   * recorded as started (by the transaction that ended the step before, or began the saga).
   */
  async #advance(
    saga: SagaRow,
    started: number | undefined,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    definition: SagaDefinition<any>,
    signal: AbortSignal,
  ): Promise<Position> {
    const fence = this.#fence(saga);
    const step = definition.steps[saga.next_step];
    if (step === undefined) {
      await this.#store.finish(fence, 'COMPLETED', definition.transientState ?? [], (tx, ended) =>
        definition.onCompleted(tx, saga.id, ended.state),
      );
      this.#completed(saga);
      return { saga: undefined };
    }
    const abortReason = definition.abortReason?.(saga.state);
    if (abortReason !== undefined) return { saga: await this.#store.abort(fence, abortReason) };
    const budget = step.attempts ?? this.#options.defaultStepAttempts;
    const outcome = await this.#attempts(saga, saga.next_step, step, 'forward', budget, signal, {
      firstStarted: started === saga.next_step,
    });
    switch (outcome.kind) {
      case 'stopped':
        return { saga: undefined };
      case 'succeeded':
        return this.#stepSucceeded(saga, step, outcome.patch, definition);
      case 'rejected':
        this.#options.log.warn(
          { sagaId: saga.id, saga: saga.type, step: step.name, reason: outcome.reason },
          'saga step rejected; compensating',
        );
        return {
          saga: await this.#store.stepFailed(fence, step.name, 'FAILED', outcome.reason, saga.next_step),
        };
      case 'exhausted':
        // The step may have happened: it is compensated with the others, its compensation is safe either way.
        this.#options.log.warn(
          { sagaId: saga.id, saga: saga.type, step: step.name, reason: outcome.reason },
          'saga step out of attempts, outcome unknown; compensating',
        );
        return {
          saga: await this.#store.stepFailed(
            fence,
            step.name,
            'IN_DOUBT',
            outcome.reason,
            saga.next_step + 1,
          ),
        };
    }
  }

  /**
   * Records a step's success and, in the same transaction, what follows: the next step's first attempt, or
   * the saga's end when it was the last step. A step thus costs one commit.
   */
  async #stepSucceeded(
    saga: SagaRow,
    step: SagaStep<unknown>,
    patch: object,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    definition: SagaDefinition<any>,
  ): Promise<Position> {
    let started: number | undefined;
    let completed = false as boolean;
    const moved = await this.#store.stepSucceeded(this.#fence(saga), step.name, patch, async (tx, now) => {
      if (now.next_step < definition.steps.length) {
        started = await this.#startFirstAttempt(tx, now, definition);
        return;
      }
      await this.#store.finishIn(
        tx,
        this.#fence(now),
        'COMPLETED',
        definition.transientState ?? [],
        (_, ended) => definition.onCompleted(tx, saga.id, ended.state),
      );
      completed = true;
    });
    if (!completed) return { saga: moved, started };
    this.#completed(saga);
    return { saga: undefined };
  }

  /**
   * Records, in `tx`, that the first attempt of the saga's next step starts, unless the saga is to be aborted
   * before it; resolves with that step's index when it did.
   */
  async #startFirstAttempt(
    tx: Transaction,
    saga: SagaRow,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    definition: SagaDefinition<any>,
  ): Promise<number | undefined> {
    const step = definition.steps[saga.next_step];
    if (step === undefined || definition.abortReason?.(saga.state) !== undefined) return undefined;
    await this.#store.startAttempt(this.#fence(saga), saga.next_step, step.name, 'forward', 1, tx);
    return saga.next_step;
  }

  #completed(saga: SagaRow): void {
    this.#metrics?.finished(saga.type, 'completed', saga.created_at);
    this.#options.log.info({ sagaId: saga.id, saga: saga.type }, 'saga completed');
  }

  async #compensateNext(
    saga: SagaRow,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    definition: SagaDefinition<any>,
    signal: AbortSignal,
  ): Promise<SagaRow | undefined> {
    const fence = this.#fence(saga);
    const index = saga.next_step - 1;
    const step = definition.steps[index];
    if (step === undefined) {
      const reason = saga.failure_reason ?? 'compensated';
      await this.#store.finish(fence, 'COMPENSATED', definition.transientState ?? [], (tx, ended) =>
        definition.onCompensated(tx, saga.id, ended.state, reason),
      );
      this.#metrics?.finished(saga.type, 'compensated', saga.created_at);
      this.#options.log.info({ sagaId: saga.id, saga: saga.type, reason }, 'saga compensated');
      return undefined;
    }
    if (step.compensate) {
      // Compensations cannot be given up on: retried until they succeed (or this runner stops).
      const outcome = await this.#attempts(saga, index, step, 'compensation', Infinity, signal);
      if (outcome.kind === 'stopped') return undefined;
    }
    return this.#store.compensationSucceeded(fence, step.name);
  }

  /**
   * Runs a step (or its compensation) until it succeeds, is rejected, or `budget` attempts were made in all,
   * counting those of runners before this one. Throws LeaseLost when the saga is no longer this runner's.
   */
  async #attempts(
    saga: SagaRow,
    index: number,
    step: SagaStep<unknown>,
    direction: StepDirection,
    budget: number,
    signal: AbortSignal,
    { firstStarted = false }: { firstStarted?: boolean } = {},
  ): Promise<StepOutcome> {
    const fence = this.#fence(saga);
    const work = direction === 'forward' ? step.run.bind(step) : step.compensate!.bind(step);
    // A first attempt this runner recorded itself has no attempts before it to count.
    const before = firstStarted
      ? { attempts: 0, error: undefined }
      : await this.#store.attemptsSoFar(saga.id, index, direction);
    let lastError = before.error ?? 'its last attempt was cut short';
    let unreachedSince: number | undefined;
    let unreachedRetries = 0;
    let recorded = firstStarted;
    for (let attempt = before.attempts + 1; attempt <= budget; attempt++) {
      if (signal.aborted) return this.#interrupted(signal);
      if (!recorded) await this.#store.startAttempt(fence, index, step.name, direction, attempt);
      recorded = false;
      const span = startSagaAttempt({
        saga: saga.type,
        sagaId: saga.id,
        step: step.name,
        direction,
        attempt,
      });
      try {
        const patch = await span.run(() =>
          this.#withTimeout(step, signal, (attemptSignal) =>
            work(this.#context(saga, index, step, attempt, attemptSignal, direction)),
          ),
        );
        span.end('succeeded');
        return { kind: 'succeeded', patch: patch ?? {} };
      } catch (error) {
        const rejected = error instanceof StepRejected && direction === 'forward';
        span.end(signal.aborted ? 'stopped' : rejected ? 'rejected' : 'failed', error);
        if (signal.aborted) return this.#interrupted(signal);
        if (rejected) return { kind: 'rejected', reason: error.message };
        lastError = errorText(error);
        // Waiting for a participant costs no attempt, for a while; the budget is for outcomes that stay unknown.
        unreachedSince = worthWaitingFor(error) ? (unreachedSince ?? Date.now()) : undefined;
        const patient =
          unreachedSince !== undefined && Date.now() - unreachedSince < this.#options.unreachedPatienceMs;
        this.#options.log.warn(
          { sagaId: saga.id, step: step.name, direction, attempt, err: error },
          patient
            ? 'saga step participant unavailable or busy; waiting for it'
            : 'saga step attempt failed; retrying with the same key',
        );
        await this.#store.attemptFailed(fence, index, direction, lastError);
        if (patient) {
          attempt -= 1;
          unreachedRetries += 1;
          await sleep(
            backoffDelay(unreachedRetries, {
              baseDelayMs: this.#options.retryBaseMs,
              maxDelayMs: this.#options.retryMaxMs,
            }),
            signal,
          );
          continue;
        }
        unreachedRetries = 0;
        if (attempt < budget)
          await sleep(
            backoffDelay(attempt, {
              baseDelayMs: this.#options.retryBaseMs,
              maxDelayMs: this.#options.retryMaxMs,
            }),
            signal,
          );
      }
    }
    return { kind: 'exhausted', reason: `${step.name} failed after ${budget} attempts: ${lastError}` };
  }

  /** A stop hands the saga over untouched; a lost lease ends the drive. */
  #interrupted(signal: AbortSignal): StepOutcome {
    if (signal.reason instanceof LeaseLost) throw signal.reason;
    return { kind: 'stopped' };
  }

  #fence(saga: SagaRow): SagaFence {
    return {
      id: saga.id,
      owner: this.#owner,
      status: saga.status === 'RUNNING' ? 'RUNNING' : 'COMPENSATING',
      step: saga.next_step,
    };
  }

  #context<S>(
    saga: SagaRow,
    index: number,
    step: SagaStep<S>,
    attempt: number,
    signal: AbortSignal,
    direction: StepDirection,
  ): StepContext<S> {
    return {
      sagaId: saga.id,
      state: saga.state as S,
      idempotencyKey: `${saga.id}:${index}:${step.name}${direction === 'compensation' ? ':undo' : ''}`,
      attempt,
      signal,
    };
  }

  /** Runs one attempt; it ends at its timeout, or when `driving` aborts, whether or not `work` heeds its signal. */
  #withTimeout<T>(
    step: { name: string; timeoutMs?: number },
    driving: AbortSignal,
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const timeoutMs = step.timeoutMs ?? this.#options.defaultStepTimeoutMs;
    return withTimeout(timeoutMs, work, {
      signal: driving,
      onTimeout: `${step.name} timed out after ${timeoutMs} ms`,
    });
  }
}
