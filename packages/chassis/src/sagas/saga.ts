// Saga definitions: an ordered list of steps, each with the compensation that undoes it. The orchestrator
// (saga-runner.ts) persists every transition, so a saga survives any crash and always ends terminal.
import type { Transaction } from '../db.ts';

/** The participant refused for a business reason (declined card, no stock): compensate, do not retry. */
export class StepRejected extends Error {
  override name = 'StepRejected';
}

/** The participant is still working on an earlier attempt with this key: ask again later, at no cost. */
export class StepInProgress extends Error {
  override name = 'StepInProgress';
}

export interface StepContext<S> {
  sagaId: string;
  state: Readonly<S>;
  /** The same for every attempt of this step in this saga: participants deduplicate on it. */
  idempotencyKey: string;
  attempt: number;
  signal: AbortSignal;
}

export interface SagaStep<S> {
  name: string;
  /** Does the step; returns what to merge into the saga's state. Throws StepRejected, or anything to retry. */
  run(context: StepContext<S>): Promise<Partial<S> | void>;
  /**
   * Undoes the step. Must be idempotent and safe when the step's outcome is unknown (a timed-out call may
   * or may not have happened): it is retried until it succeeds.
   */
  compensate?(context: StepContext<S>): Promise<void>;
  /**
   * Attempts of `run`, by every runner that drove the saga (a crash loop counts too), before the step counts as
   * failed in doubt and is compensated. An attempt cut short by a stop counts, but is not a failure.
   */
  attempts?: number;
  timeoutMs?: number;
}

export interface SagaDefinition<S> {
  type: string;
  steps: readonly SagaStep<S>[];
  /** Checked before each step: a reason to stop and compensate (e.g. the customer cancelled), or undefined. */
  abortReason?(state: S): string | undefined;
  /** State that must not outlive the saga (a card number): erased in the transaction that ends it. */
  transientState?: readonly (keyof S & string)[];
  /** Runs in the transaction that marks the saga COMPLETED, with the state its transient part erased. */
  onCompleted(tx: Transaction, sagaId: string, state: S): Promise<void>;
  /** Runs in the transaction that marks the saga COMPENSATED, after every compensation succeeded; same state. */
  onCompensated(tx: Transaction, sagaId: string, state: S, reason: string): Promise<void>;
}

export type SagaStatus = 'RUNNING' | 'COMPENSATING' | 'COMPLETED' | 'COMPENSATED';

export const SAGA_MIGRATIONS = new URL('./migrations/', import.meta.url);
