// The seam to whatever moves the money: a card processor, asked once per payment. Implementations must be
// idempotent per reference: asked again about the same reference, they give the same answer and charge once.
import type { Money } from '@souk/contracts';
import { withTimeout } from '@souk/kit';
import type { ProcessorDecision } from '../domain/payment.model.ts';

export type { ProcessorDecision };

export interface ChargeRequest {
  /** The payment's id: the processor's idempotency key. */
  reference: string;
  amount: Money;
  card: string;
}

/** What the processor knows of a charge: its decision, or `unknown` when the charge never reached it. */
export type ChargeStatus = ProcessorDecision | 'unknown';

export interface CardProcessor {
  /** Settles when the processor answers; an aborted `signal` ends the wait with the signal's reason. */
  charge(request: ChargeRequest, options?: { signal?: AbortSignal }): Promise<ProcessorDecision>;
  /**
   * Looks up the charge made under `request.reference`, without charging: for a charge whose answer never came
   * back. A real processor needs only the reference; the rest lets a processor without memory answer.
   */
  status(request: ChargeRequest, options?: { signal?: AbortSignal }): Promise<ChargeStatus>;
}

export class ProcessorTimeoutError extends Error {
  override name = 'ProcessorTimeoutError';
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`the card processor did not answer within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** Charges, waiting at most `timeoutMs` (see `within`). */
export const chargeWithin = (
  processor: CardProcessor,
  request: ChargeRequest,
  timeoutMs: number,
): Promise<ProcessorDecision> => within(timeoutMs, (signal) => processor.charge(request, { signal }));

/** Looks a charge up, waiting at most `timeoutMs` (see `within`). */
export const statusWithin = (
  processor: CardProcessor,
  request: ChargeRequest,
  timeoutMs: number,
): Promise<ChargeStatus> => within(timeoutMs, (signal) => processor.status(request, { signal }));

/**
 * Asks the processor and waits at most `timeoutMs`: past that, the call is aborted and a ProcessorTimeoutError
 * thrown, even if the processor ignores its signal.
 */
function within<T>(timeoutMs: number, ask: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return withTimeout(timeoutMs, ask, { onTimeout: () => new ProcessorTimeoutError(timeoutMs) });
}
