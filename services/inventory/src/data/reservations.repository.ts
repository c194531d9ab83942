// Reservations in PostgreSQL: each one transaction that locks its products in id order, so concurrent
// reservations neither oversell nor deadlock.
import { withTransaction, type Pool, type Transaction } from '@souk/chassis';
import type { Reservation, ReservationStatus } from '@souk/contracts';
import {
  accept,
  refuse,
  reservationMismatch,
  reservationNotFound,
  reservationReleased,
  type Outcome,
  type Rejection,
} from '../domain/inventory.errors.ts';
import {
  commitTransition,
  mergeLines,
  planReservation,
  releaseTransition,
  sameLines,
  type Line,
  type StockLevel,
} from '../domain/reservation.model.ts';

interface ItemRow {
  product_id: string;
  quantity: number;
  unit_price_amount: number;
  unit_price_currency: string;
}

/** Carries a rejection out of a transaction so that it rolls back. */
class Refused extends Error {
  readonly rejection: Rejection;

  constructor(rejection: Rejection) {
    super(rejection.detail);
    this.rejection = rejection;
  }
}

export class ReservationsRepository {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  async find(reservationId: string): Promise<Reservation | undefined> {
    const id = reservationId.toLowerCase();
    const { rows } = await this.#pool.query<{ status: ReservationStatus }>(
      'SELECT status FROM reservations WHERE id = $1',
      [id],
    );
    return rows[0] && { reservationId: id, status: rows[0].status, items: await items(this.#pool, id) };
  }

  /**
   * Holds every line or none. A replay of the same request answers the reservation as it now is
   * (`created: false`); a released id, tombstone included, is refused so that a late duplicate takes nothing.
   */
  async reserve(
    reservationId: string,
    requested: readonly Line[],
  ): Promise<Outcome<{ reservation: Reservation; created: boolean }>> {
    const id = reservationId.toLowerCase();
    const lines = mergeLines(requested);
    return this.#transaction<{ reservation: Reservation; created: boolean }>(async (tx) => {
      // The primary key serialises requests with one id: a concurrent twin waits here for the first to finish.
      const inserted = await tx.query(
        `INSERT INTO reservations (id, status) VALUES ($1, 'RESERVED') ON CONFLICT (id) DO NOTHING`,
        [id],
      );
      if (inserted.rowCount === 0) {
        const existing = await this.#lockReservation(tx, id);
        if (existing === undefined) throw new Error(`reservation ${id} vanished while being replayed`);
        if (existing.status === 'RELEASED') return refuse(reservationReleased(id));
        if (!sameLines(existing.items, lines)) return refuse(reservationMismatch(id));
        return accept({ reservation: existing, created: false });
      }

      const stock = await lockProducts(
        tx,
        lines.map((line) => line.productId),
      );
      const plan = planReservation(lines, stock);
      if (!plan.ok) return plan;
      const planned = plan.value;

      const taken = await tx.query(
        `UPDATE products p SET available = p.available - t.quantity, updated_at = now()
         FROM unnest($1::uuid[], $2::integer[]) AS t (id, quantity)
         WHERE p.id = t.id AND p.available >= t.quantity`,
        [planned.map((item) => item.productId), planned.map((item) => item.quantity)],
      );
      if (taken.rowCount !== planned.length) throw new Error(`reservation ${id}: stock changed under a lock`);
      await tx.query(
        `INSERT INTO reservation_items
           (reservation_id, position, product_id, quantity, unit_price_amount, unit_price_currency)
         SELECT $1, t.position, t.product_id, t.quantity, t.amount, t.currency
         FROM unnest($2::uuid[], $3::integer[], $4::bigint[], $5::text[]) WITH ORDINALITY
           AS t (product_id, quantity, amount, currency, position)`,
        [
          id,
          planned.map((item) => item.productId),
          planned.map((item) => item.quantity),
          planned.map((item) => item.unitPrice.amount),
          planned.map((item) => item.unitPrice.currency),
        ],
      );
      return accept({
        reservation: { reservationId: id, status: 'RESERVED', items: planned },
        created: true,
      });
    });
  }

  /** RESERVED becomes COMMITTED; committing again changes nothing. */
  async commit(reservationId: string): Promise<Outcome<Reservation>> {
    const id = reservationId.toLowerCase();
    return this.#transaction(async (tx) => {
      const existing = await this.#lockReservation(tx, id);
      if (existing === undefined) return refuse(reservationNotFound(id));
      const transition = commitTransition(id, existing.status);
      if (!transition.ok) return transition;
      if (transition.value.changed) await setStatus(tx, id, transition.value.status);
      return accept({ ...existing, status: transition.value.status });
    });
  }

  /**
   * Gives the stock back once, whether the reservation was held or committed. Releasing an id never reserved
   * leaves a tombstone, so that a reserve call arriving after its own compensation takes nothing.
   */
  async release(reservationId: string): Promise<Reservation> {
    const id = reservationId.toLowerCase();
    const outcome = await this.#transaction(async (tx) => {
      const tombstone = await tx.query(
        `INSERT INTO reservations (id, status) VALUES ($1, 'RELEASED') ON CONFLICT (id) DO NOTHING`,
        [id],
      );
      if (tombstone.rowCount === 1)
        return accept<Reservation>({ reservationId: id, status: 'RELEASED', items: [] });

      const existing = await this.#lockReservation(tx, id);
      if (existing === undefined) throw new Error(`reservation ${id} vanished while being released`);
      const transition = releaseTransition(existing.status);
      if (transition.returnsStock) {
        await lockProducts(
          tx,
          existing.items.map((item) => item.productId),
        );
        await tx.query(
          `UPDATE products p SET available = p.available + t.quantity, updated_at = now()
           FROM unnest($1::uuid[], $2::integer[]) AS t (id, quantity)
           WHERE p.id = t.id`,
          [existing.items.map((item) => item.productId), existing.items.map((item) => item.quantity)],
        );
        await setStatus(tx, id, transition.status);
      }
      return accept<Reservation>({ ...existing, status: transition.status });
    });
    if (!outcome.ok) throw new Error(`release of ${id} cannot be refused`);
    return outcome.value;
  }

  async #lockReservation(tx: Transaction, id: string): Promise<Reservation | undefined> {
    const { rows } = await tx.query<{ status: ReservationStatus }>(
      'SELECT status FROM reservations WHERE id = $1 FOR UPDATE',
      [id],
    );
    return rows[0] && { reservationId: id, status: rows[0].status, items: await items(tx, id) };
  }

  /** A transaction that commits an accepted outcome and rolls back a refused one. */
  async #transaction<T>(work: (tx: Transaction) => Promise<Outcome<T>>): Promise<Outcome<T>> {
    try {
      return await withTransaction(this.#pool, async (tx) => {
        const outcome = await work(tx);
        if (!outcome.ok) throw new Refused(outcome.rejection);
        return outcome;
      });
    } catch (error) {
      if (error instanceof Refused) return refuse(error.rejection);
      throw error;
    }
  }
}

/** Locks the products in id order, the one order every transaction here takes them in. */
async function lockProducts(tx: Transaction, ids: readonly string[]): Promise<StockLevel[]> {
  const { rows } = await tx.query<{
    id: string;
    available: number;
    price_amount: number;
    price_currency: string;
  }>(
    `SELECT id, available, price_amount, price_currency FROM products
     WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
    [ids],
  );
  return rows.map((row) => ({
    id: row.id,
    available: row.available,
    price: { amount: row.price_amount, currency: row.price_currency },
  }));
}

async function items(db: Pool | Transaction, reservationId: string): Promise<Reservation['items']> {
  const { rows } = await db.query<ItemRow>(
    `SELECT product_id, quantity, unit_price_amount, unit_price_currency
     FROM reservation_items WHERE reservation_id = $1 ORDER BY position`,
    [reservationId],
  );
  return rows.map((row) => ({
    productId: row.product_id,
    quantity: row.quantity,
    unitPrice: { amount: row.unit_price_amount, currency: row.unit_price_currency },
  }));
}

function setStatus(tx: Transaction, id: string, status: ReservationStatus) {
  return tx.query('UPDATE reservations SET status = $2, updated_at = now() WHERE id = $1', [id, status]);
}
