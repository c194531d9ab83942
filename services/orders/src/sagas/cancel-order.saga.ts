// Cancelling an order whose placement went through: refund the charge and put the stock back, then mark the
// order cancelled. Neither step can be refused, so both are retried until they succeed.
import { createHash } from 'node:crypto';
import type { SagaDefinition, Transaction } from '@souk/chassis';
import { derivedUuid } from '../domain/derived-uuid.ts';
import type { InventoryParticipant } from '../participants/inventory.participant.ts';
import type { PaymentsParticipant } from '../participants/payments.participant.ts';

export interface CancelOrderState {
  orderId: string;
  reason: string;
}

export const CANCEL_ORDER = 'cancel-order';

/** An order has at most one cancel saga, and its id follows from the order's: a second one cannot start. */
export function cancelSagaId(orderId: string): string {
  return derivedUuid(createHash('sha256').update(`${CANCEL_ORDER}:${orderId}`).digest('hex'));
}

export function cancelOrderSaga(deps: {
  inventory: InventoryParticipant;
  payments: PaymentsParticipant;
  cancelled(tx: Transaction, state: CancelOrderState): Promise<void>;
}): SagaDefinition<CancelOrderState> {
  const { inventory, payments } = deps;
  return {
    type: CANCEL_ORDER,
    steps: [
      {
        name: 'refund-payment',
        attempts: Number.POSITIVE_INFINITY,
        run: ({ state, idempotencyKey }) => payments.refund(state.orderId, idempotencyKey),
      },
      {
        name: 'restock',
        attempts: Number.POSITIVE_INFINITY,
        run: ({ state, idempotencyKey }) => inventory.release(state.orderId, idempotencyKey),
      },
    ],
    onCompleted: (tx, _sagaId, state) => deps.cancelled(tx, state),
    // Unreachable: no step is ever given up on.
    onCompensated: async () => {},
  };
}
