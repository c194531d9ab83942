// Placing an order: reserve the stock, charge the card, commit the stock, then confirm. Each step's
// compensation undoes it; a declined card or missing stock cancels the order with the reason.
import type { Money, OrderLine } from '@souk/contracts';
import type { SagaDefinition, Transaction } from '@souk/chassis';
import type { InventoryParticipant } from '../participants/inventory.participant.ts';
import type { PaymentsParticipant } from '../participants/payments.participant.ts';

export interface PlaceOrderState {
  orderId: string;
  userId: string;
  items: OrderLine[];
  total: Money;
  /** The card as payments keeps it: the number itself never reaches this service's database. */
  cardToken: string;
  cardLast4: string;
  cancelRequested?: boolean;
  paymentId?: string;
}

export const PLACE_ORDER = 'place-order';

export interface OrderOutcomes {
  /** Every step succeeded: confirm the order (or, if cancellation was asked meanwhile, start undoing it). */
  completed(tx: Transaction, state: PlaceOrderState): Promise<void>;
  /** The saga was undone: cancel the order with the reason. */
  compensated(tx: Transaction, state: PlaceOrderState, reason: string): Promise<void>;
}

export function placeOrderSaga(deps: {
  inventory: InventoryParticipant;
  payments: PaymentsParticipant;
  outcomes: OrderOutcomes;
  /** Read at each attempt (a live setting). */
  chargeTimeoutMs: () => number;
}): SagaDefinition<PlaceOrderState> {
  const { inventory, payments, outcomes } = deps;
  return {
    type: PLACE_ORDER,
    abortReason: (state) => (state.cancelRequested ? 'cancelled by the customer' : undefined),
    steps: [
      {
        name: 'reserve-stock',
        run: ({ state, idempotencyKey }) =>
          inventory.reserve(
            state.orderId,
            state.items.map(({ productId, quantity }) => ({ productId, quantity })),
            idempotencyKey,
          ),
        compensate: ({ state, idempotencyKey }) => inventory.release(state.orderId, idempotencyKey),
      },
      {
        name: 'charge-payment',
        get timeoutMs() {
          return deps.chargeTimeoutMs();
        },
        run: async ({ state, idempotencyKey }) => {
          const payment = await payments.charge(
            { orderId: state.orderId, userId: state.userId, amount: state.total, cardToken: state.cardToken },
            idempotencyKey,
          );
          return { paymentId: payment.id };
        },
        compensate: ({ state, idempotencyKey }) => payments.refund(state.orderId, idempotencyKey),
      },
      {
        name: 'commit-stock',
        run: ({ state, idempotencyKey }) => inventory.commit(state.orderId, idempotencyKey),
      },
    ],
    onCompleted: (tx, _sagaId, state) => outcomes.completed(tx, state),
    onCompensated: (tx, _sagaId, state, reason) => outcomes.compensated(tx, state, reason),
  };
}
