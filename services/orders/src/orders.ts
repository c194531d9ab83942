// The order use cases: place (idempotently), read, list and cancel; and what the sagas' ends mean for an
// order. Every change appends events, rewrites the read model and records the public event, in one
// transaction.
import { createHmac } from 'node:crypto';
import {
  ConcurrencyError,
  ProblemError,
  claimKey,
  completeKey,
  fingerprintOf,
  storedAnswer,
  withTransaction,
  type HeldSaga,
  type KeyClaim,
  type Pool,
  type SagaRunner,
  type Transaction,
} from '@souk/chassis';
import {
  InventoryErrorCode,
  type EventType,
  type EventTypes,
  type Rejection,
  type TokenisedCard,
} from '@souk/contracts';
import { requestInProgress, type Answer, type Reply } from '@souk/kit';
import {
  cancel,
  confirm,
  OrderRuleViolation,
  place,
  requestCancellation,
  type Order,
} from './domain/order.ts';
import { derivedUuid } from './domain/derived-uuid.ts';
import { loadForUpdate, save } from './data/order.repository.ts';
import type { UsersDirectory } from './grpc/users.client.ts';
import type { InventoryParticipant } from './participants/inventory.participant.ts';
import type { PaymentsParticipant } from './participants/payments.participant.ts';
import { CANCEL_ORDER, cancelSagaId, type CancelOrderState } from './sagas/cancel-order.saga.ts';
import { PLACE_ORDER, type PlaceOrderState } from './sagas/place-order.saga.ts';

/** Records a public event in the same transaction as the change it announces (the outbox). */
export type PublishEvent = <T extends EventType>(
  tx: Transaction,
  type: T,
  data: EventTypes[T],
  subject: string,
) => Promise<void>;

export interface PlaceOrderRequest {
  items: { productId: string; quantity: number }[];
  payment: { card: string };
}

/** What POST /api/orders accepts with; stored with its Idempotency-Key and replayed as it was. */
export interface PlacedOrder {
  id: string;
  status: 'PENDING';
}

/** The one order an Idempotency-Key of a caller can make: its id is derived from both, keyed with a secret. */
export const orderIdFor = (secret: string, caller: string, key: string): string =>
  derivedUuid(createHmac('sha256', secret).update(`place-order\n${caller}\n${key}`).digest('hex'));

export class Orders {
  readonly #db: Pool;
  readonly #sagas: SagaRunner;
  readonly #inventory: InventoryParticipant;
  readonly #payments: PaymentsParticipant;
  readonly #users: UsersDirectory;
  readonly #publish: PublishEvent;
  readonly #clock: () => Date;
  readonly #secret: string;
  readonly #keyLeaseMs: number;

  constructor(deps: {
    db: Pool;
    sagas: SagaRunner;
    inventory: InventoryParticipant;
    payments: PaymentsParticipant;
    users: UsersDirectory;
    publish: PublishEvent;
    /** Keys the request fingerprints and the order ids derived from Idempotency-Keys. */
    secret: string;
    /** How long a request holds its Idempotency-Key before a retry may resume it. */
    keyLeaseMs: number;
    clock?: () => Date;
  }) {
    this.#db = deps.db;
    this.#sagas = deps.sagas;
    this.#inventory = deps.inventory;
    this.#payments = deps.payments;
    this.#users = deps.users;
    this.#publish = deps.publish;
    this.#clock = deps.clock ?? (() => new Date());
    this.#secret = deps.secret;
    this.#keyLeaseMs = deps.keyLeaseMs;
  }

  /**
   * POST /api/orders under an Idempotency-Key: the key's claim, the order, its saga, the public event and the
   * stored answer are committed together, so a replay can never find an order without its answer or the
   * reverse, and a twin request sent meanwhile waits on the key's row, then replays this one's answer. The
   * order's id follows from the caller and the key, so that one key can only ever make one order.
   */
  async place(userId: string, key: string, request: PlaceOrderRequest): Promise<Reply<PlacedOrder>> {
    await this.#ensureMayOrder(userId);
    const caller = `user:${userId}`;
    const fingerprint = fingerprintOf(this.#secret, 'place-order', request);
    let prices: Awaited<ReturnType<InventoryParticipant['prices']>>;
    let card: TokenisedCard;
    try {
      // Asked before the key is claimed, so that nothing waits on a participant inside the transaction; a retry
      // asks again, harmlessly (a read, and the same card gets the same token). The card goes to payments
      // before anything is recorded here: only its token is kept.
      [prices, card] = await Promise.all([
        this.#inventory.prices([...new Set(request.items.map((item) => item.productId))]),
        this.#payments.tokenise(request.payment.card),
      ]);
    } catch (error) {
      // A retry of a request that went through still gets its answer while a participant is away.
      const stored = await storedAnswer(this.#db, caller, key);
      if (stored !== undefined) return { answer: stored as Answer<PlacedOrder>, replayed: true };
      throw error;
    }

    const orderId = orderIdFor(this.#secret, caller, key);
    let saga: HeldSaga | undefined;
    const reply = await this.#underKey({ caller, key, operation: 'place-order', fingerprint }, async (tx) => {
      const unknown = request.items.find((item) => !prices.has(item.productId));
      if (unknown) {
        return this.#refusal({
          status: 422,
          code: InventoryErrorCode.UnknownProduct,
          detail: `Product ${unknown.productId} does not exist.`,
        });
      }
      let events;
      try {
        events = place({
          orderId,
          userId,
          at: this.#clock().toISOString(),
          lines: request.items.map((item) => ({ ...item, unitPrice: prices.get(item.productId)! })),
        });
      } catch (error) {
        if (!(error instanceof OrderRuleViolation)) throw error;
        return this.#refusal({ status: 422, code: error.code, detail: error.message });
      }
      const order = (await save(tx, undefined, events))!;
      const state: PlaceOrderState = {
        orderId,
        userId,
        items: order.items,
        total: order.total,
        cardToken: card.token,
        cardLast4: card.last4,
      };
      saga = await this.#sagas.beginHeld(tx, PLACE_ORDER, orderId, state);
      await this.#publish(
        tx,
        'order.created',
        { orderId, userId, items: order.items, total: order.total },
        orderId,
      );
      return { ok: true, status: 202, value: { id: orderId, status: 'PENDING' } };
    });
    if (saga !== undefined && reply.answer.ok && !reply.replayed) void saga.run();
    return reply;
  }

  /**
   * A pending order stops its saga at the next step and is compensated; a confirmed one is refunded and
   * restocked by the cancel saga. Either way the order ends CANCELLED.
   */
  async requestCancellation(orderId: string, by: string): Promise<void> {
    const sagaToRun = await this.#retryOnConflict(() =>
      withTransaction(this.#db, async (tx) => {
        const order = await loadForUpdate(tx, orderId);
        if (order === undefined) throw new Error(`order ${orderId} vanished`);
        let events;
        try {
          events = requestCancellation(order, by, this.#clock().toISOString());
        } catch (error) {
          if (error instanceof OrderRuleViolation) throw new ProblemError(409, error.code, error.message);
          throw error;
        }
        if (events.length === 0) return undefined;
        await save(tx, order, events);
        if (order.status === 'CONFIRMED')
          return this.#beginCancelSaga(tx, order, 'cancelled by the customer');
        await this.#sagas.patchState<PlaceOrderState>(tx, orderId, { cancelRequested: true });
        return orderId;
      }),
    );
    if (sagaToRun !== undefined) void this.#sagas.run(sagaToRun);
  }

  /** Only an account users knows and has not disabled may order; asked before the key is claimed, so never stored. */
  async #ensureMayOrder(userId: string): Promise<void> {
    const account = await this.#users.getUser(userId);
    if (account === undefined) {
      throw new ProblemError(403, 'ACCOUNT_NOT_FOUND', 'This account does not exist, so it cannot order.');
    }
    if (account.disabled) {
      throw new ProblemError(403, 'ACCOUNT_DISABLED', 'This account is disabled, so it cannot order.');
    }
  }

  /** The place-order saga went through. */
  async placementCompleted(tx: Transaction, state: PlaceOrderState): Promise<void> {
    const order = await loadForUpdate(tx, state.orderId);
    if (order === undefined || order.status !== 'PENDING') return;
    if (order.cancellationRequested) {
      await this.#beginCancelSaga(tx, order, 'cancelled by the customer');
      return;
    }
    await save(tx, order, confirm(order, this.#clock().toISOString()));
    await this.#publish(
      tx,
      'order.confirmed',
      { orderId: order.id, userId: order.userId, total: order.total },
      order.id,
    );
  }

  /** The place-order saga was undone, or the cancel saga finished. */
  async cancelled(tx: Transaction, orderId: string, reason: string): Promise<void> {
    const order = await loadForUpdate(tx, orderId);
    if (order === undefined) return;
    const events = cancel(order, reason, this.#clock().toISOString());
    if (events.length === 0) return;
    await save(tx, order, events);
    await this.#publish(tx, 'order.cancelled', { orderId, userId: order.userId, reason }, orderId);
  }

  #refusal(rejection: Rejection): Answer<PlacedOrder> {
    return { ok: false, rejection };
  }

  /**
   * Claims the key, does the work and stores its answer, in one transaction. A key already answered replays
   * its answer; one used for another request is refused. When a request with the same key got there first by
   * another path (the same order collides on its event stream), this one's work is rolled back and it answers
   * as that one did, or 409 while that one is still running.
   */
  async #underKey(
    claim: KeyClaim,
    work: (tx: Transaction) => Promise<Answer<PlacedOrder>>,
  ): Promise<Reply<PlacedOrder>> {
    try {
      return await withTransaction(this.#db, async (tx): Promise<Reply<PlacedOrder>> => {
        const held = await claimKey(tx, claim, this.#keyLeaseMs);
        if (held.action === 'replay') return { answer: held.answer as Answer<PlacedOrder>, replayed: true };
        if (held.action === 'refuse')
          return { answer: { ok: false, rejection: held.rejection }, replayed: false };
        const answer = await work(tx);
        // The key's row is locked by this transaction since the claim: nobody can have taken it over.
        if (!(await completeKey(tx, claim.caller, claim.key, answer, held.claim)))
          throw new Error(`idempotency key ${claim.key} was taken over while locked`);
        return { answer, replayed: false };
      });
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      const stored = await storedAnswer(this.#db, claim.caller, claim.key);
      if (stored !== undefined) return { answer: stored as Answer<PlacedOrder>, replayed: true };
      return { answer: { ok: false, rejection: requestInProgress() }, replayed: false };
    }
  }

  async #beginCancelSaga(tx: Transaction, order: Order, reason: string): Promise<string> {
    const sagaId = cancelSagaId(order.id);
    const state: CancelOrderState = { orderId: order.id, reason };
    await this.#sagas.begin(tx, CANCEL_ORDER, sagaId, state);
    return sagaId;
  }

  async #retryOnConflict<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= 5) throw error;
      }
    }
  }
}
