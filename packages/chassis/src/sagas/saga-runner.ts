// The saga orchestrator. Every transition is committed before the next action, a lease says which process
// drives a saga, and a periodic scan picks up sagas whose driver died, so every saga ends COMPLETED or
// COMPENSATED whatever crashes.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { withTransaction, type Pool, type Queryable } from '../db.ts';
import {
  StepRejected,
  type SagaDefinition,
  type SagaStatus,
  type SagaStep,
  type StepContext,
} from './saga.ts';

export interface SagaRunnerOptions {
  db: Pool;
  log: Logger;
  /** How long a runner owns a saga without renewing; another process takes over after it. */
  leaseMs?: number;
  /** How often unfinished sagas without a live owner are looked for. */
  scanIntervalMs?: number;
  /** Backoff between attempts: full jitter over an exponential ceiling. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  defaultStepTimeoutMs?: number;
  defaultStepAttempts?: number;
}

interface SagaRow {
  id: string;
  type: string;
  state: Record<string, unknown>;
  status: SagaStatus;
  next_step: number;
  failure_reason: string | null;
}

type StepOutcome =
  | { kind: 'succeeded'; patch: Record<string, unknown> }
  | { kind: 'rejected'; reason: string }
  | { kind: 'in-doubt'; reason: string };

/** Another process took the saga over (this one stalled past its lease): stop driving it. */
class LeaseLost extends Error {
  override name = 'LeaseLost';
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class SagaRunner {
  readonly #options: Required<Omit<SagaRunnerOptions, 'db' | 'log'>> & Pick<SagaRunnerOptions, 'db' | 'log'>;
  readonly #owner = `${process.pid}:${randomUUID()}`;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- definitions of many state types live here
  readonly #definitions = new Map<string, SagaDefinition<any>>();
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #stopping = new AbortController();
  #scanTimer: NodeJS.Timeout | undefined;

  constructor(options: SagaRunnerOptions) {
    this.#options = {
      leaseMs: 10_000,
      scanIntervalMs: 2_000,
      retryBaseMs: 100,
      retryMaxMs: 5_000,
      defaultStepTimeoutMs: 10_000,
      defaultStepAttempts: 5,
      ...options,
    };
  }

  register<S>(definition: SagaDefinition<S>): void {
    this.#definitions.set(definition.type, definition);
  }

  /** Records a new saga in the caller's transaction; call `run(id)` once that transaction committed. */
  async begin<S extends object>(tx: Queryable, type: string, id: string, state: S): Promise<void> {
    if (!this.#definitions.has(type)) throw new Error(`no saga '${type}' is registered`);
    await tx.query(`INSERT INTO saga_instances (id, type, state, status) VALUES ($1, $2, $3, 'RUNNING')`, [
      id,
      type,
      state,
    ]);
  }

  /** Merges `patch` into a saga's state in the caller's transaction; the runner sees it at the next step. */
  async patchState<S extends object>(tx: Queryable, id: string, patch: Partial<S>): Promise<void> {
    await tx.query(`UPDATE saga_instances SET state = state || $2::jsonb, updated_at = now() WHERE id = $1`, [
      id,
      JSON.stringify(patch),
    ]);
  }

  /** Drives the saga until it is terminal or another process owns it. Safe to call more than once. */
  run(id: string): Promise<void> {
    const running = this.#inFlight.get(id);
    if (running) return running;
    const execution = this.#execute(id)
      .catch((error: unknown) =>
        error instanceof LeaseLost
          ? this.#options.log.info({ sagaId: id }, 'saga taken over by another runner')
          : this.#options.log.error({ err: error, sagaId: id }, 'saga run interrupted'),
      )
      .finally(() => this.#inFlight.delete(id));
    this.#inFlight.set(id, execution);
    return execution;
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

  async stop(): Promise<void> {
    this.#stopping.abort();
    clearTimeout(this.#scanTimer);
    await Promise.allSettled([...this.#inFlight.values()]);
    // Hand the sagas over at once instead of after the lease.
    await this.#options.db
      .query(`UPDATE saga_instances SET lease_until = NULL WHERE lease_owner = $1`, [this.#owner])
      .catch(() => {});
  }

  /** Resolves when nothing runs here: for tests and graceful shutdown. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight.values()]);
  }

  async #resumeOrphans(): Promise<void> {
    const { rows } = await this.#options.db.query<{ id: string }>(
      `SELECT id FROM saga_instances
       WHERE status IN ('RUNNING', 'COMPENSATING') AND (lease_until IS NULL OR lease_until < now())
       ORDER BY created_at LIMIT 100`,
    );
    for (const { id } of rows) void this.run(id);
  }

  async #acquire(id: string): Promise<SagaRow | undefined> {
    const { rows } = await this.#options.db.query<SagaRow>(
      `UPDATE saga_instances SET lease_owner = $2, lease_until = now() + make_interval(secs => $3)
       WHERE id = $1 AND status IN ('RUNNING', 'COMPENSATING')
         AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $2)
       RETURNING id, type, state, status, next_step, failure_reason`,
      [id, this.#owner, this.#options.leaseMs / 1000],
    );
    return rows[0];
  }

  /** Extends this runner's lease before each attempt, so a long step is not taken over while it runs. */
  async #renewLease(id: string): Promise<void> {
    const { rowCount } = await this.#options.db.query(
      `UPDATE saga_instances SET lease_until = now() + make_interval(secs => $3) WHERE id = $1 AND lease_owner = $2`,
      [id, this.#owner, this.#options.leaseMs / 1000],
    );
    if (rowCount !== 1) throw new LeaseLost(id);
  }

  async #execute(id: string): Promise<void> {
    for (;;) {
      if (this.#stopping.signal.aborted) return;
      const saga = await this.#acquire(id);
      if (saga === undefined) return;
      const definition = this.#definitions.get(saga.type);
      if (definition === undefined) throw new Error(`saga ${id} has unknown type ${saga.type}`);
      if (saga.status === 'RUNNING') await this.#advance(saga, definition);
      else await this.#compensateNext(saga, definition);
    }
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async #advance(saga: SagaRow, definition: SagaDefinition<any>): Promise<void> {
    const { db } = this.#options;
    const step = definition.steps[saga.next_step];
    if (step === undefined) {
      await withTransaction(db, async (tx) => {
        await tx.query(
          `UPDATE saga_instances SET status = 'COMPLETED', lease_until = NULL, updated_at = now(),
             state = state - $2::text[] WHERE id = $1`,
          [saga.id, definition.transientState ?? []],
        );
        await definition.onCompleted(tx, saga.id, saga.state);
      });
      this.#options.log.info({ sagaId: saga.id, saga: saga.type }, 'saga completed');
      return;
    }
    const abortReason = definition.abortReason?.(saga.state);
    if (abortReason !== undefined) {
      await this.#beginCompensation(saga.id, saga.next_step, abortReason);
      return;
    }
    const outcome = await this.#attempt(saga, saga.next_step, step);
    if (outcome.kind === 'succeeded') {
      await withTransaction(db, async (tx) => {
        await this.#logStep(tx, saga.id, saga.next_step, step.name, 'forward', 'SUCCEEDED');
        await tx.query(
          `UPDATE saga_instances SET state = state || $2::jsonb, next_step = next_step + 1, updated_at = now() WHERE id = $1`,
          [saga.id, JSON.stringify(outcome.patch)],
        );
      });
      return;
    }
    const inDoubt = outcome.kind === 'in-doubt';
    this.#options.log.warn(
      { sagaId: saga.id, saga: saga.type, step: step.name, reason: outcome.reason },
      inDoubt ? 'saga step failed, outcome unknown; compensating' : 'saga step rejected; compensating',
    );
    // A step whose outcome is unknown is compensated too: its compensation is safe either way.
    await withTransaction(db, async (tx) => {
      await this.#logStep(
        tx,
        saga.id,
        saga.next_step,
        step.name,
        'forward',
        inDoubt ? 'IN_DOUBT' : 'FAILED',
        outcome.reason,
      );
      await this.#beginCompensation(
        saga.id,
        inDoubt ? saga.next_step + 1 : saga.next_step,
        outcome.reason,
        tx,
      );
    });
  }

  async #beginCompensation(
    id: string,
    compensateBelow: number,
    reason: string,
    tx: Queryable = this.#options.db,
  ) {
    await tx.query(
      `UPDATE saga_instances SET status = 'COMPENSATING', next_step = $2, failure_reason = $3, updated_at = now() WHERE id = $1`,
      [id, compensateBelow, reason],
    );
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async #compensateNext(saga: SagaRow, definition: SagaDefinition<any>): Promise<void> {
    const { db } = this.#options;
    const index = saga.next_step - 1;
    const step = definition.steps[index];
    if (step === undefined) {
      await withTransaction(db, async (tx) => {
        await tx.query(
          `UPDATE saga_instances SET status = 'COMPENSATED', lease_until = NULL, updated_at = now(),
             state = state - $2::text[] WHERE id = $1`,
          [saga.id, definition.transientState ?? []],
        );
        await definition.onCompensated(tx, saga.id, saga.state, saga.failure_reason ?? 'compensated');
      });
      this.#options.log.info(
        { sagaId: saga.id, saga: saga.type, reason: saga.failure_reason },
        'saga compensated',
      );
      return;
    }
    if (step.compensate) {
      const compensate = step.compensate.bind(step);
      // Compensations cannot be given up on: retried until they succeed (or this process stops).
      for (let attempt = 1; ; attempt++) {
        if (this.#stopping.signal.aborted) return;
        await this.#renewLease(saga.id);
        await this.#logStep(db, saga.id, index, step.name, 'compensation', 'STARTED', undefined, attempt);
        try {
          await this.#withTimeout(step, (signal) =>
            compensate(this.#context(saga, index, step, attempt, signal, 'compensation')),
          );
          break;
        } catch (error) {
          await this.#logStep(
            db,
            saga.id,
            index,
            step.name,
            'compensation',
            'STARTED',
            errorText(error),
            attempt,
          );
          this.#options.log.warn(
            { sagaId: saga.id, step: step.name, attempt, err: error },
            'compensation failed; retrying',
          );
          await this.#sleep(this.#backoff(attempt));
        }
      }
    }
    await withTransaction(db, async (tx) => {
      await this.#logStep(tx, saga.id, index, step.name, 'compensation', 'SUCCEEDED');
      await tx.query(`UPDATE saga_instances SET next_step = $2, updated_at = now() WHERE id = $1`, [
        saga.id,
        index,
      ]);
    });
  }

  async #attempt(saga: SagaRow, index: number, step: SagaStep<unknown>): Promise<StepOutcome> {
    const attempts = step.attempts ?? this.#options.defaultStepAttempts;
    const run = step.run.bind(step);
    let lastError = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.#stopping.signal.aborted) return { kind: 'in-doubt', reason: 'runner stopped' };
      await this.#logStep(
        this.#options.db,
        saga.id,
        index,
        step.name,
        'forward',
        'STARTED',
        undefined,
        attempt,
      );
      try {
        const patch = await this.#withTimeout(step, (signal) =>
          run(this.#context(saga, index, step, attempt, signal, 'forward')),
        );
        return { kind: 'succeeded', patch: patch ?? {} };
      } catch (error) {
        if (error instanceof StepRejected) return { kind: 'rejected', reason: error.message };
        lastError = errorText(error);
        this.#options.log.warn(
          { sagaId: saga.id, step: step.name, attempt, err: error },
          'saga step attempt failed',
        );
        if (attempt < attempts) await this.#sleep(this.#backoff(attempt));
      }
    }
    return { kind: 'in-doubt', reason: `${step.name} failed after ${attempts} attempts: ${lastError}` };
  }

  #context<S>(
    saga: SagaRow,
    index: number,
    step: SagaStep<S>,
    attempt: number,
    signal: AbortSignal,
    direction: string,
  ): StepContext<S> {
    return {
      sagaId: saga.id,
      state: saga.state as S,
      idempotencyKey: `${saga.id}:${index}:${step.name}${direction === 'compensation' ? ':undo' : ''}`,
      attempt,
      signal,
    };
  }

  async #withTimeout<T>(
    step: { name: string; timeoutMs?: number },
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const timeoutMs = step.timeoutMs ?? this.#options.defaultStepTimeoutMs;
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), this.#stopping.signal]);
    return Promise.race([
      work(signal),
      new Promise<never>((_resolve, reject) =>
        signal.addEventListener(
          'abort',
          () => reject(new Error(`${step.name} timed out after ${timeoutMs} ms`)),
          { once: true },
        ),
      ),
    ]);
  }

  async #logStep(
    db: Queryable,
    sagaId: string,
    index: number,
    name: string,
    direction: 'forward' | 'compensation',
    status: 'STARTED' | 'SUCCEEDED' | 'FAILED' | 'IN_DOUBT',
    error?: string,
    attempt?: number,
  ): Promise<void> {
    await db.query(
      `INSERT INTO saga_steps (saga_id, step_index, name, direction, status, attempts, error, finished_at)
       VALUES ($1, $2, $3, $4, $5, coalesce($6, 1), $7, CASE WHEN $5 = 'STARTED' THEN NULL ELSE now() END)
       ON CONFLICT (saga_id, step_index, direction) DO UPDATE SET
         status = $5, attempts = coalesce($6, saga_steps.attempts), error = coalesce($7, saga_steps.error),
         finished_at = CASE WHEN $5 = 'STARTED' THEN NULL ELSE now() END`,
      [sagaId, index, name, direction, status, attempt ?? null, error ?? null],
    );
  }

  #backoff(attempt: number): number {
    const ceiling = Math.min(this.#options.retryMaxMs, this.#options.retryBaseMs * 2 ** (attempt - 1));
    return Math.random() * ceiling;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#stopping.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
}

export interface SagaStepRecord {
  sagaId: string;
  saga: string;
  step: string;
  direction: 'forward' | 'compensation';
  status: 'STARTED' | 'SUCCEEDED' | 'FAILED' | 'IN_DOUBT';
  attempts: number;
  error?: string;
  startedAt: Date;
  finishedAt?: Date;
}

/** The step log of the given sagas, in the order the steps started: what a timeline draws. */
export async function readSagaSteps(db: Queryable, sagaIds: readonly string[]): Promise<SagaStepRecord[]> {
  const { rows } = await db.query<{
    saga_id: string;
    type: string;
    name: string;
    direction: SagaStepRecord['direction'];
    status: SagaStepRecord['status'];
    attempts: number;
    error: string | null;
    started_at: Date;
    finished_at: Date | null;
  }>(
    `SELECT s.saga_id, i.type, s.name, s.direction, s.status, s.attempts, s.error, s.started_at, s.finished_at
     FROM saga_steps s JOIN saga_instances i ON i.id = s.saga_id
     WHERE s.saga_id = ANY($1::uuid[]) ORDER BY s.started_at, s.step_index`,
    [sagaIds],
  );
  return rows.map((row) => ({
    sagaId: row.saga_id,
    saga: row.type,
    step: row.name,
    direction: row.direction,
    status: row.status,
    attempts: row.attempts,
    ...(row.error === null ? {} : { error: row.error }),
    startedAt: row.started_at,
    ...(row.finished_at === null ? {} : { finishedAt: row.finished_at }),
  }));
}
