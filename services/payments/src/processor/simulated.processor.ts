// A card processor without a bank behind it, for the local profile and tests. Its answers depend only on the
// card and the reference, so asking again about a reference gives the same answer, as a real processor's would.
import { createHash } from 'node:crypto';
import { TEST_CARDS } from '@souk/contracts';
import { luhnValid } from '../domain/card.model.ts';
import type { CardProcessor, ChargeRequest, ChargeStatus, ProcessorDecision } from './card-processor.ts';

/**
 * `TEST_CARDS.approves` and any other Luhn-valid number are approved; `TEST_CARDS.declines` is declined;
 * a Luhn-invalid number is declined as invalid; `TEST_CARDS.hangs` gets no answer at all.
 */
export function simulatedDecision(request: ChargeRequest): ProcessorDecision | 'no answer' {
  if (request.card === TEST_CARDS.hangs) return 'no answer';
  if (!luhnValid(request.card)) return { approved: false, reason: 'invalid card number' };
  if (request.card === TEST_CARDS.declines) return { approved: false, reason: 'card declined' };
  return approval(request.reference);
}

/**
 * What a later look-up finds: the decision the charge got, and for `TEST_CARDS.hangs`, whose answer never came
 * back, an approval that arrived late.
 */
export function simulatedStatus(request: ChargeRequest): ChargeStatus {
  const decision = simulatedDecision(request);
  return decision === 'no answer' ? approval(request.reference) : decision;
}

function approval(reference: string): ProcessorDecision {
  const digest = createHash('sha256').update(reference).digest('hex');
  return { approved: true, authorization: `sim_${digest.slice(0, 20)}` };
}

export class SimulatedCardProcessor implements CardProcessor {
  async charge(request: ChargeRequest, options: { signal?: AbortSignal } = {}): Promise<ProcessorDecision> {
    const { signal } = options;
    signal?.throwIfAborted();
    const decision = simulatedDecision(request);
    if (decision !== 'no answer') return decision;
    return new Promise<never>((_resolve, reject) => {
      signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    });
  }

  async status(request: ChargeRequest, options: { signal?: AbortSignal } = {}): Promise<ChargeStatus> {
    options.signal?.throwIfAborted();
    return simulatedStatus(request);
  }
}
