// The seam to whatever moves the money: a card processor, asked once per payment. Implementations must be
// idempotent per reference: asked again about the same reference, they give the same answer and charge once.
import type { Money } from '@souk/contracts';
import type { ProcessorDecision } from '../domain/payment.model.ts';

export type { ProcessorDecision };

export interface ChargeRequest {
  /** The payment's id: the processor's idempotency key. */
  reference: string;
  amount: Money;
  card: string;
}

export interface CardProcessor {
  /** Settles when the processor answers; an aborted `signal` ends the wait with the signal's reason. */
  charge(request: ChargeRequest, options?: { signal?: AbortSignal }): Promise<ProcessorDecision>;
}

export class ProcessorTimeoutError extends Error {
  override name = 'ProcessorTimeoutError';
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`the card processor did not answer within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Asks the processor and waits at most `timeoutMs`: past that, the call is aborted and a ProcessorTimeoutError
 * thrown, even if the processor ignores its signal.
 */
export async function chargeWithin(
  processor: CardProcessor,
  request: ChargeRequest,
  timeoutMs: number,
): Promise<ProcessorDecision> {
  const controller = new AbortController();
  const timedOut = new ProcessorTimeoutError(timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      controller.abort(timedOut);
      reject(timedOut);
    }, timeoutMs);
  });
  try {
    return await Promise.race([processor.charge(request, { signal: controller.signal }), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
