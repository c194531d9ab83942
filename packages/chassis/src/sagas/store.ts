// Where sagas persist: every change a runner makes is fenced by the lease owner, the expected step and the
// expected status, so a runner that lost its saga can never overwrite what the next one did.
import { withTransaction, type Pool, type Queryable, type Transaction } from '../db.ts';
import { activeTraceId } from '../tracing/tracer.ts';
import type { SagaStatus } from './saga.ts';

export interface SagaRow {
  id: string;
  type: string;
  state: Record<string, unknown>;
  status: SagaStatus;
  next_step: number;
  failure_reason: string | null;
  created_at: Date;
}

/** What a runner believes of a saga it drives; a change applies only if the row still says so. */
export interface SagaFence {
  id: string;
  owner: string;
  status: 'RUNNING' | 'COMPENSATING';
  step: number;
}

export type StepDirection = 'forward' | 'compensation';
export type StepStatus = 'STARTED' | 'SUCCEEDED' | 'FAILED' | 'IN_DOUBT';

/** The saga is no longer this runner's (its lease was taken, or it moved on without it): stop driving it. */
export class LeaseLost extends Error {
  override name = 'LeaseLost';
  constructor(sagaId: string) {
    super(`saga ${sagaId} is no longer owned by this runner at the expected step and status`);
  }
}

const ROW = 'id, type, state, status, next_step, failure_reason, created_at';
const FENCE = 'id = $1 AND lease_owner = $2 AND status = $3 AND next_step = $4';
const fenceParams = (fence: SagaFence) => [fence.id, fence.owner, fence.status, fence.step];
const seconds = (ms: number) => ms / 1000;

export class SagaStore {
  readonly #db: Pool;

  constructor(db: Pool) {
    this.#db = db;
  }

  async create(tx: Queryable, id: string, type: string, state: object): Promise<void> {
    await tx.query(
      `INSERT INTO saga_instances (id, type, state, status, trace_id) VALUES ($1, $2, $3, 'RUNNING', $4)`,
      [id, type, state, activeTraceId() ?? null],
    );
  }

  /** Creates the saga already leased to `owner`, so that its creator drives it without acquiring it first. */
  async createHeld(
    tx: Queryable,
    saga: { id: string; type: string; state: object },
    owner: string,
    leaseMs: number,
  ): Promise<SagaRow> {
    const { rows } = await tx.query<SagaRow>(
      `INSERT INTO saga_instances (id, type, state, status, lease_owner, lease_until, trace_id)
       VALUES ($1, $2, $3, 'RUNNING', $4, now() + make_interval(secs => $5), $6)
       RETURNING ${ROW}`,
      [saga.id, saga.type, saga.state, owner, seconds(leaseMs), activeTraceId() ?? null],
    );
    return rows[0]!;
  }

  /** A caller's change to a saga's state (e.g. "cancel requested"); the runner reads it before each step. */
  async mergeState(tx: Queryable, id: string, patch: object): Promise<void> {
    await tx.query(`UPDATE saga_instances SET state = state || $2::jsonb, updated_at = now() WHERE id = $1`, [
      id,
      JSON.stringify(patch),
    ]);
  }

  /** Takes the saga if it is unfinished and nobody else holds a live lease on it. */
  async acquire(id: string, owner: string, leaseMs: number): Promise<SagaRow | undefined> {
    const { rows } = await this.#db.query<SagaRow>(
      `UPDATE saga_instances SET lease_owner = $2, lease_until = now() + make_interval(secs => $3)
       WHERE id = $1 AND status IN ('RUNNING', 'COMPENSATING')
         AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $2)
       RETURNING ${ROW}`,
      [id, owner, seconds(leaseMs)],
    );
    return rows[0];
  }

  /** Extends the lease; false when the saga is no longer this owner's. */
  async renew(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const { rowCount } = await this.#db.query(
      `UPDATE saga_instances SET lease_until = now() + make_interval(secs => $3)
       WHERE id = $1 AND lease_owner = $2 AND status IN ('RUNNING', 'COMPENSATING')`,
      [id, owner, seconds(leaseMs)],
    );
    return rowCount === 1;
  }

  /** Hands the owner's sagas (or one of them) over: another runner may take them at once. */
  async release(owner: string, id?: string): Promise<void> {
    await this.#db.query(
      `UPDATE saga_instances SET lease_owner = NULL, lease_until = NULL
       WHERE lease_owner = $1 AND ($2::uuid IS NULL OR id = $2)`,
      [owner, id ?? null],
    );
  }

  /**
   * Takes an unfinished saga from whoever holds it, so that it is driven again now (an operator's resume); runs
   * `also` in the same transaction. Resolves with the saga's status, or undefined when there is no such saga.
   */
  async takeBack(id: string, also: (tx: Transaction) => Promise<void>): Promise<SagaStatus | undefined> {
    return withTransaction(this.#db, async (tx) => {
      const { rows } = await tx.query<{ status: SagaStatus }>(
        `SELECT status FROM saga_instances WHERE id = $1 FOR UPDATE`,
        [id],
      );
      const status = rows[0]?.status;
      if (status !== 'RUNNING' && status !== 'COMPENSATING') return status;
      await tx.query(`UPDATE saga_instances SET lease_owner = NULL, lease_until = NULL WHERE id = $1`, [id]);
      await also(tx);
      return status;
    });
  }

  /** Unfinished sagas nobody drives: their lease ran out or was handed over. */
  async unowned(limit: number): Promise<string[]> {
    const { rows } = await this.#db.query<{ id: string }>(
      `SELECT id FROM saga_instances
       WHERE status IN ('RUNNING', 'COMPENSATING') AND (lease_until IS NULL OR lease_until < now())
       ORDER BY created_at LIMIT $1`,
      [limit],
    );
    return rows.map((row) => row.id);
  }

  /** The attempts already made at a step, by any runner, and the last error: a crash loop keeps counting. */
  async attemptsSoFar(
    id: string,
    index: number,
    direction: StepDirection,
  ): Promise<{ attempts: number; error: string | undefined }> {
    const { rows } = await this.#db.query<{ attempts: number; error: string | null }>(
      `SELECT attempts, error FROM saga_steps WHERE saga_id = $1 AND step_index = $2 AND direction = $3`,
      [id, index, direction],
    );
    return { attempts: rows[0]?.attempts ?? 0, error: rows[0]?.error ?? undefined };
  }

  /** Records that attempt number `attempt` of a step starts, before its effect is asked for. */
  async startAttempt(
    fence: SagaFence,
    index: number,
    name: string,
    direction: StepDirection,
    attempt: number,
    tx: Queryable = this.#db,
  ): Promise<void> {
    const { rowCount } = await tx.query(
      `INSERT INTO saga_steps (saga_id, step_index, name, direction, status, attempts)
       SELECT id, $5, $6, $7, 'STARTED', $8 FROM saga_instances WHERE ${FENCE}
       ON CONFLICT (saga_id, step_index, direction) DO UPDATE SET
         status = 'STARTED', attempts = excluded.attempts, finished_at = NULL`,
      [...fenceParams(fence), index, name, direction, attempt],
    );
    if (rowCount !== 1) throw new LeaseLost(fence.id);
  }

  async attemptFailed(
    fence: SagaFence,
    index: number,
    direction: StepDirection,
    error: string,
  ): Promise<void> {
    const { rowCount } = await this.#db.query(
      `UPDATE saga_steps SET error = $7
       WHERE saga_id = $1 AND step_index = $5 AND direction = $6
         AND EXISTS (SELECT 1 FROM saga_instances WHERE ${FENCE})`,
      [...fenceParams(fence), index, direction, error],
    );
    if (rowCount !== 1) throw new LeaseLost(fence.id);
  }

  /**
   * The forward step at the fence succeeded: merge its patch and move to the next one. `then` continues in the
   * same transaction with the saga as it now is (to start the next step, or to end the saga), so that a step
   * costs one commit.
   */
  stepSucceeded(
    fence: SagaFence,
    name: string,
    patch: object,
    then?: (tx: Transaction, saga: SagaRow) => Promise<void>,
  ): Promise<SagaRow> {
    return this.#transition(fence, name, 'forward', 'SUCCEEDED', undefined, async (tx) => {
      const saga = await this.#update(tx, fence, `state = state || $5::jsonb, next_step = next_step + 1`, [
        JSON.stringify(patch),
      ]);
      await then?.(tx, saga);
      return saga;
    });
  }

  /**
   * The forward step at the fence failed for good (FAILED: it did nothing) or ran out of attempts (IN_DOUBT:
   * it may have happened, so it is compensated too): undo every step below `compensateBelow`.
   */
  stepFailed(
    fence: SagaFence,
    name: string,
    status: 'FAILED' | 'IN_DOUBT',
    reason: string,
    compensateBelow: number,
  ): Promise<SagaRow> {
    return this.#transition(fence, name, 'forward', status, reason, (tx) =>
      this.#beginCompensation(tx, fence, compensateBelow, reason),
    );
  }

  /** The saga is to be undone before its next step runs (e.g. the customer cancelled). */
  abort(fence: SagaFence, reason: string): Promise<SagaRow> {
    return withTransaction(this.#db, (tx) => this.#beginCompensation(tx, fence, fence.step, reason));
  }

  /** Step `fence.step - 1` is undone: the next compensation is the one below it. */
  compensationSucceeded(fence: SagaFence, name: string): Promise<SagaRow> {
    return this.#transition(fence, name, 'compensation', 'SUCCEEDED', undefined, (tx) =>
      this.#update(tx, fence, 'next_step = next_step - 1', []),
    );
  }

  /** Ends the saga, erasing its transient state and its lease; `then` runs in the same transaction. */
  finish(
    fence: SagaFence,
    status: 'COMPLETED' | 'COMPENSATED',
    transientState: readonly string[],
    then: (tx: Transaction, saga: SagaRow) => Promise<void>,
  ): Promise<void> {
    return withTransaction(this.#db, (tx) => this.finishIn(tx, fence, status, transientState, then));
  }

  /** `finish`, in the caller's transaction. */
  async finishIn(
    tx: Transaction,
    fence: SagaFence,
    status: 'COMPLETED' | 'COMPENSATED',
    transientState: readonly string[],
    then: (tx: Transaction, saga: SagaRow) => Promise<void>,
  ): Promise<void> {
    const saga = await this.#update(
      tx,
      fence,
      'status = $5, lease_owner = NULL, lease_until = NULL, state = state - $6::text[]',
      [status, transientState],
    );
    await then(tx, saga);
  }

  #transition(
    fence: SagaFence,
    name: string,
    direction: StepDirection,
    status: StepStatus,
    error: string | undefined,
    update: (tx: Transaction) => Promise<SagaRow>,
  ): Promise<SagaRow> {
    const index = direction === 'forward' ? fence.step : fence.step - 1;
    return withTransaction(this.#db, async (tx) => {
      const saga = await update(tx);
      await tx.query(
        `INSERT INTO saga_steps (saga_id, step_index, name, direction, status, attempts, error, finished_at)
         VALUES ($1, $2, $3, $4, $5, 0, $6, now())
         ON CONFLICT (saga_id, step_index, direction) DO UPDATE SET
           status = $5, error = coalesce($6, saga_steps.error), finished_at = now()`,
        [fence.id, index, name, direction, status, error ?? null],
      );
      return saga;
    });
  }

  #beginCompensation(tx: Transaction, fence: SagaFence, compensateBelow: number, reason: string) {
    return this.#update(tx, fence, `status = 'COMPENSATING', next_step = $5, failure_reason = $6`, [
      compensateBelow,
      reason,
    ]);
  }

  async #update(tx: Transaction, fence: SagaFence, set: string, params: unknown[]): Promise<SagaRow> {
    const { rows } = await tx.query<SagaRow>(
      `UPDATE saga_instances SET ${set}, updated_at = now() WHERE ${FENCE} RETURNING ${ROW}`,
      [...fenceParams(fence), ...params],
    );
    if (rows[0] === undefined) throw new LeaseLost(fence.id);
    return rows[0];
  }
}

/**
 * Deletes the sagas that ended (COMPLETED or COMPENSATED) before `olderThan`, with their step logs; returns how
 * many sagas went. Unfinished sagas are never touched, however old.
 */
export async function pruneFinishedSagas(db: Queryable, olderThan: Date): Promise<number> {
  const { rows } = await db.query<{ count: number }>(
    `WITH finished AS (
       DELETE FROM saga_instances WHERE status IN ('COMPLETED', 'COMPENSATED') AND updated_at < $1 RETURNING id
     ), steps AS (
       DELETE FROM saga_steps WHERE saga_id IN (SELECT id FROM finished)
     )
     SELECT count(*)::int AS count FROM finished`,
    [olderThan],
  );
  return rows[0]?.count ?? 0;
}

/** A saga as an operator sees it. */
export interface SagaSummary {
  id: string;
  type: string;
  status: SagaStatus;
  nextStep: number;
  failureReason: string | null;
  /** Whose lease it is under, and until when; none while nobody drives it. */
  leaseOwner: string | null;
  leaseUntil: string | null;
  traceId: string | null;
  state: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

/**
 * Unfinished sagas split at the deadline (in flight, or stuck past it), and the most recently finished ones;
 * each list newest first, at most `limit` long.
 */
export async function sagaOverview(
  db: Queryable,
  options: { deadlineMs: number; limit: number },
): Promise<{ inFlight: SagaSummary[]; stuck: SagaSummary[]; finished: SagaSummary[] }> {
  const select = `SELECT ${ROW}, lease_owner, lease_until, trace_id, updated_at FROM saga_instances`;
  const unfinished = `status IN ('RUNNING', 'COMPENSATING')`;
  const deadline = `now() - make_interval(secs => $1)`;
  const [inFlight, stuck, finished] = await Promise.all([
    db.query<SummaryRow>(
      `${select} WHERE ${unfinished} AND created_at >= ${deadline} ORDER BY created_at DESC LIMIT $2`,
      [seconds(options.deadlineMs), options.limit],
    ),
    db.query<SummaryRow>(
      `${select} WHERE ${unfinished} AND created_at < ${deadline} ORDER BY created_at DESC LIMIT $2`,
      [seconds(options.deadlineMs), options.limit],
    ),
    db.query<SummaryRow>(
      `${select} WHERE status IN ('COMPLETED', 'COMPENSATED') ORDER BY updated_at DESC LIMIT $1`,
      [options.limit],
    ),
  ]);
  return {
    inFlight: inFlight.rows.map(summary),
    stuck: stuck.rows.map(summary),
    finished: finished.rows.map(summary),
  };
}

interface SummaryRow extends SagaRow {
  lease_owner: string | null;
  lease_until: Date | null;
  trace_id: string | null;
  updated_at: Date;
}

const summary = (row: SummaryRow): SagaSummary => ({
  id: row.id,
  type: row.type,
  status: row.status,
  nextStep: row.next_step,
  failureReason: row.failure_reason,
  leaseOwner: row.lease_owner,
  leaseUntil: row.lease_until?.toISOString() ?? null,
  traceId: row.trace_id,
  state: row.state,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

export interface SagaStepRecord {
  sagaId: string;
  saga: string;
  step: string;
  direction: StepDirection;
  status: StepStatus;
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
    direction: StepDirection;
    status: StepStatus;
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
