// Payments, orders and the ledger in PostgreSQL. Every transaction takes its locks in one order (idempotency
// key, then order, then payments), so that concurrent charges and refunds serialise per order without deadlock.
import { randomUUID } from 'node:crypto';
import { withTransaction, type Outbox, type Pool, type Transaction } from '@souk/chassis';
import type { Charge, Payment, RefundResult } from '@souk/contracts';
import type { Answer, Reply } from '@souk/kit';
import type { Journal } from '../domain/ledger.model.ts';
import {
  admitCharge,
  planRefund,
  settleCharge,
  toPayment,
  type PaymentEvent,
  type PaymentRecord,
  type PaymentState,
  type ProcessorDecision,
} from '../domain/payment.model.ts';
import { unknownCard, type Rejection } from '../domain/payments.errors.ts';
import { claimKey, completeKey, completedAnswer, fingerprintOf, releaseKey } from '@souk/chassis';
import { findCard } from './cards.repository.ts';

interface PaymentRow {
  id: string;
  order_id: string;
  user_id: string;
  amount: number;
  currency: string;
  status: PaymentState;
}

const COLUMNS = 'id, order_id, user_id, amount, currency, status';

const toRecord = (row: PaymentRow): PaymentRecord => ({
  id: row.id,
  orderId: row.order_id,
  userId: row.user_id,
  amount: { amount: row.amount, currency: row.currency },
  status: row.status,
});

/** Who asks, under which key. */
export interface Keyed {
  caller: string;
  key: string;
}

/** How a charge starts: answered at once (a replay, or refused), or a pending payment to ask the processor about. */
export type ChargeStart =
  { kind: 'answered'; reply: Reply<Payment> } | { kind: 'proceed'; payment: PaymentRecord; card: string };

/** A charge left PENDING, with what it takes to ask the processor about it and settle it. */
export interface PendingCharge extends Keyed {
  readonly payment: PaymentRecord;
  readonly card: string;
}

/** Carries a rejection out of a transaction so that it rolls back, the idempotency key with it. */
class Refused extends Error {
  readonly rejection: Rejection;

  constructor(rejection: Rejection) {
    super(rejection.detail);
    this.rejection = rejection;
  }
}

export class PaymentsRepository {
  readonly #pool: Pool;
  readonly #fingerprintSecret: string;
  readonly #newId: () => string;
  readonly #outbox: Outbox;

  /** `fingerprintSecret` keys the request fingerprints stored with idempotency keys. */
  constructor(pool: Pool, options: { fingerprintSecret: string; outbox: Outbox; newId?: () => string }) {
    this.#pool = pool;
    this.#fingerprintSecret = options.fingerprintSecret;
    this.#newId = options.newId ?? randomUUID;
    this.#outbox = options.outbox;
  }

  /**
   * Step one of a charge, in one transaction: claims the key and, for a new one, records the payment PENDING,
   * if the order admits a charge. A refused charge leaves nothing behind, its key included.
   */
  async beginCharge(request: Keyed & { charge: Charge; leaseMs: number }): Promise<ChargeStart> {
    const { caller, key, charge } = request;
    const orderId = charge.orderId.toLowerCase();
    const userId = charge.userId.toLowerCase();
    const fingerprint = fingerprintOf(this.#fingerprintSecret, 'charge', { ...charge, orderId, userId });
    try {
      return await withTransaction(this.#pool, async (tx): Promise<ChargeStart> => {
        const claim = await claimKey(tx, { caller, key, operation: 'charge', fingerprint }, request.leaseMs);
        switch (claim.action) {
          case 'replay':
            return { kind: 'answered', reply: { answer: claim.answer as Answer<Payment>, replayed: true } };
          case 'refuse':
            return {
              kind: 'answered',
              reply: { answer: { ok: false, rejection: claim.rejection }, replayed: false },
            };
          case 'resume': {
            const payment = await this.#paymentOfKey(tx, caller, key);
            if (payment?.status !== 'PENDING')
              throw new Error(`idempotency key ${key} is in progress without a pending payment`);
            return { kind: 'proceed', payment, card: await cardOfPayment(tx, payment.id) };
          }
          case 'new':
            break;
        }
        const closed = await lockOrder(tx, orderId);
        const { rows: charges } = await tx.query<{ status: PaymentState; active: boolean }>(
          `SELECT p.status,
                  coalesce(k.state = 'IN_PROGRESS' AND k.leased_until > clock_timestamp(), false) AS active
           FROM payments p
           LEFT JOIN idempotency_keys k ON k.caller = p.idempotency_caller AND k.key = p.idempotency_key
           WHERE p.order_id = $1`,
          [orderId],
        );
        const admitted = admitCharge(orderId, { closed, charges });
        if (!admitted.ok) throw new Refused(admitted.rejection);
        const card = await findCard(tx, charge.cardToken);
        if (card === undefined) throw new Refused(unknownCard());
        const payment: PaymentRecord = {
          id: this.#newId(),
          orderId,
          userId,
          amount: charge.amount,
          status: 'PENDING',
        };
        await tx.query(
          `INSERT INTO payments (id, order_id, user_id, amount, currency, status, card_token, card_last4,
                                 idempotency_caller, idempotency_key)
           VALUES ($1, $2, $3, $4, $5, 'PENDING', $6, $7, $8, $9)`,
          [
            payment.id,
            orderId,
            userId,
            charge.amount.amount,
            charge.amount.currency,
            charge.cardToken,
            card.last4,
            caller,
            key,
          ],
        );
        return { kind: 'proceed', payment, card: card.number };
      });
    } catch (error) {
      if (error instanceof Refused)
        return {
          kind: 'answered',
          reply: { answer: { ok: false, rejection: error.rejection }, replayed: false },
        };
      throw error;
    }
  }

  /**
   * Step three of a charge, in one transaction: the processor's decision settles the pending payment, with its
   * ledger journals and events, and the answer is stored under the key while the key is kept. When another
   * worker settled it first (both asked the processor about the same reference, so both heard the same), its
   * stored answer is returned.
   */
  async settleCharge(
    request: Keyed & { paymentId: string; decision: ProcessorDecision },
  ): Promise<Reply<Payment>> {
    const { caller, key, paymentId } = request;
    return withTransaction(this.#pool, async (tx) => {
      const stored = await storedAnswer(tx, caller, key);
      if (stored !== undefined) return { answer: stored, replayed: true };
      const { rows: found } = await tx.query<{ order_id: string }>(
        'SELECT order_id FROM payments WHERE id = $1',
        [paymentId],
      );
      const orderId = found[0]?.order_id;
      if (orderId === undefined) throw new Error(`payment ${paymentId} vanished`);
      const closed = await lockOrder(tx, orderId);
      const { rows } = await tx.query<PaymentRow>(
        `SELECT ${COLUMNS} FROM payments WHERE id = $1 FOR UPDATE`,
        [paymentId],
      );
      const payment = toRecord(rows[0]!);
      if (payment.status !== 'PENDING') {
        // Settled meanwhile under a key since pruned: nothing is left to do, and no answer to give.
        throw new Error(`payment ${paymentId} is already ${payment.status}`);
      }
      const { rows: paid } = await tx.query(
        `SELECT 1 FROM payments WHERE order_id = $1 AND status = 'SUCCEEDED' AND id <> $2`,
        [orderId, paymentId],
      );
      const settlement = settleCharge(payment, request.decision, { closed, paidByAnother: paid.length > 0 });
      await tx.query(
        `UPDATE payments SET status = $2, authorization_code = $3, failure_reason = $4, updated_at = now()
         WHERE id = $1`,
        [paymentId, settlement.status, settlement.authorization, settlement.failureReason],
      );
      for (const journal of settlement.journals) await book(tx, this.#newId(), paymentId, journal);
      for (const event of settlement.events) await this.#record(tx, event);
      await completeKey(tx, caller, key, settlement.answer);
      return { answer: settlement.answer, replayed: false };
    });
  }

  /**
   * Refunds the order's successful charge, if it has one, and closes the order to later charges either way.
   * One transaction: there is no one else to ask.
   */
  async refund(request: Keyed & { orderId: string }): Promise<Reply<RefundResult>> {
    const { caller, key } = request;
    const orderId = request.orderId.toLowerCase();
    const fingerprint = fingerprintOf(this.#fingerprintSecret, 'refund', { orderId });
    return withTransaction(this.#pool, async (tx): Promise<Reply<RefundResult>> => {
      // No lease: the key is claimed and completed in this one transaction, so no one sees it in progress.
      const claim = await claimKey(tx, { caller, key, operation: 'refund', fingerprint }, 0);
      if (claim.action === 'replay') return { answer: claim.answer as Answer<RefundResult>, replayed: true };
      if (claim.action === 'refuse')
        return { answer: { ok: false, rejection: claim.rejection }, replayed: false };

      await lockOrder(tx, orderId);
      await tx.query('UPDATE payment_orders SET closed_at = coalesce(closed_at, now()) WHERE order_id = $1', [
        orderId,
      ]);
      const { rows } = await tx.query<PaymentRow>(
        `SELECT ${COLUMNS} FROM payments WHERE order_id = $1 ORDER BY created_at, id FOR UPDATE`,
        [orderId],
      );
      const plan = planRefund(rows.map(toRecord));
      if (plan.action === 'refund') {
        await tx.query(`UPDATE payments SET status = 'REFUNDED', updated_at = now() WHERE id = $1`, [
          plan.payment.id,
        ]);
        await book(tx, this.#newId(), plan.payment.id, plan.journal);
        await this.#record(tx, plan.event);
      }
      const answer: Answer<RefundResult> = {
        ok: true,
        status: 200,
        value: { orderId, refunded: plan.refunded },
      };
      await completeKey(tx, caller, key, answer);
      return { answer, replayed: false };
    });
  }

  /**
   * Charges left PENDING for longer than `staleAfterMs` whose worker is gone (no live lease on their key), oldest
   * first. Each one taken is touched, so that another instance's sweep leaves it alone for `staleAfterMs`.
   */
  async takeStalePending(staleAfterMs: number, limit: number): Promise<PendingCharge[]> {
    const { rows } = await this.#pool.query<
      PaymentRow & { number: string; idempotency_caller: string; idempotency_key: string }
    >(
      `WITH stale AS (
         SELECT p.id FROM payments p
         LEFT JOIN idempotency_keys k ON k.caller = p.idempotency_caller AND k.key = p.idempotency_key
         WHERE p.status = 'PENDING' AND p.card_token IS NOT NULL
           AND p.updated_at < clock_timestamp() - make_interval(secs => $1 / 1000.0)
           AND NOT coalesce(k.state = 'IN_PROGRESS' AND k.leased_until > clock_timestamp(), false)
         ORDER BY p.updated_at
         LIMIT $2
         FOR UPDATE OF p SKIP LOCKED
       )
       UPDATE payments p SET updated_at = clock_timestamp()
       FROM stale, cards c
       WHERE p.id = stale.id AND c.token = p.card_token
       RETURNING p.id, p.order_id, p.user_id, p.amount, p.currency, p.status, c.number,
                 p.idempotency_caller, p.idempotency_key`,
      [staleAfterMs, limit],
    );
    return rows.map((row) => ({
      caller: row.idempotency_caller,
      key: row.idempotency_key,
      payment: toRecord(row),
      card: row.number,
    }));
  }

  /** Lets go of an unfinished charge's key, so that a retry resumes it at once. */
  async release(caller: string, key: string): Promise<void> {
    await releaseKey(this.#pool, caller, key);
  }

  /** Settled payments, newest first: one user's (or everyone's), of one order or all. */
  async list(filter: { userId?: string; orderId?: string; limit: number }): Promise<Payment[]> {
    const { rows } = await this.#pool.query<PaymentRow>(
      `SELECT ${COLUMNS} FROM payments
       WHERE status <> 'PENDING'
         AND ($1::uuid IS NULL OR user_id = $1)
         AND ($2::uuid IS NULL OR order_id = $2)
       ORDER BY created_at DESC, id DESC
       LIMIT $3`,
      [filter.userId ?? null, filter.orderId ?? null, filter.limit],
    );
    return rows.map((row) => toPayment(toRecord(row)));
  }

  async #paymentOfKey(tx: Transaction, caller: string, key: string): Promise<PaymentRecord | undefined> {
    const { rows } = await tx.query<PaymentRow>(
      `SELECT ${COLUMNS} FROM payments WHERE idempotency_caller = $1 AND idempotency_key = $2`,
      [caller, key],
    );
    return rows[0] && toRecord(rows[0]);
  }

  /** The event is written in the transaction of the change it announces (the transactional outbox). */
  async #record(tx: Transaction, event: PaymentEvent): Promise<void> {
    await this.#outbox.add(tx, event.type, event.data, { subject: event.data.orderId });
  }
}

/** The answer stored under a key, if the key is completed; a key pruned since has none. */
async function storedAnswer(
  tx: Transaction,
  caller: string,
  key: string,
): Promise<Answer<Payment> | undefined> {
  const { rows } = await tx.query('SELECT 1 FROM idempotency_keys WHERE caller = $1 AND key = $2', [
    caller,
    key,
  ]);
  if (rows.length === 0) return undefined;
  return (await completedAnswer(tx, caller, key)) as Answer<Payment> | undefined;
}

/** The card number a payment was made with. */
async function cardOfPayment(tx: Transaction, paymentId: string): Promise<string> {
  const { rows } = await tx.query<{ number: string }>(
    'SELECT c.number FROM payments p JOIN cards c ON c.token = p.card_token WHERE p.id = $1',
    [paymentId],
  );
  if (rows[0] === undefined) throw new Error(`payment ${paymentId} has no card on record`);
  return rows[0].number;
}

/** Locks the order's row, creating it on first sight; says whether the order is closed. */
async function lockOrder(tx: Transaction, orderId: string): Promise<boolean> {
  await tx.query('INSERT INTO payment_orders (order_id) VALUES ($1) ON CONFLICT (order_id) DO NOTHING', [
    orderId,
  ]);
  const { rows } = await tx.query<{ closed_at: Date | null }>(
    'SELECT closed_at FROM payment_orders WHERE order_id = $1 FOR UPDATE',
    [orderId],
  );
  return rows[0]!.closed_at !== null;
}

/** Writes one journal; the database refuses it at commit unless it balances. */
async function book(tx: Transaction, journalId: string, paymentId: string, journal: Journal): Promise<void> {
  await tx.query(
    `INSERT INTO ledger_entries (journal_id, payment_id, kind, account, amount, currency)
     SELECT $1, $2, $3, t.account, t.amount, t.currency
     FROM unnest($4::text[], $5::bigint[], $6::text[]) AS t (account, amount, currency)`,
    [
      journalId,
      paymentId,
      journal.kind,
      journal.entries.map((entry) => entry.account),
      journal.entries.map((entry) => entry.amount),
      journal.entries.map((entry) => entry.currency),
    ],
  );
}
