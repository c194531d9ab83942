// Reservations racing on real PostgreSQL: no overselling, no deadlocks, one hold per reservation id.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createPool } from '@souk/chassis';
import type { ReserveStock } from '@souk/contracts';
import { startInventory, type InventoryFixture } from '../testing/inventory.fixture.ts';

describe('reservations under concurrency', () => {
  let inventory: InventoryFixture;

  before(async () => {
    // More connections than the default, so that more transactions really overlap.
    inventory = await startInventory('reservations_concurrency', { SOUK__DATABASE__POOL_SIZE: '20' });
  });

  after(async () => {
    await inventory.close();
  });

  const reserve = (body: ReserveStock) =>
    inventory.service.app.inject({
      method: 'POST',
      url: '/internal/reservations',
      headers: inventory.as.orders,
      payload: body,
    });
  const release = (id: string) =>
    inventory.service.app.inject({
      method: 'POST',
      url: `/internal/reservations/${id}/release`,
      headers: inventory.as.orders,
    });

  /** Samples a product's stock from its own connection until stopped; returns the lowest value seen. */
  const watchStock = (productId: string) => {
    const pool = createPool(inventory.database.url, { max: 1 });
    let running = true;
    let lowest = Number.POSITIVE_INFINITY;
    const sampling = (async () => {
      while (running) {
        const { rows } = await pool.query<{ available: number }>(
          'SELECT available FROM products WHERE id = $1',
          [productId],
        );
        lowest = Math.min(lowest, rows[0]!.available);
      }
    })();
    return async () => {
      running = false;
      await sampling;
      await pool.end();
      return lowest;
    };
  };

  it('when 60 orders race for 10 units, then exactly 10 get one, the rest 409, and stock ends at 0, never below', async () => {
    const product = await inventory.createProduct({ stock: 10 });
    const stopWatching = watchStock(product.id);
    const responses = await Promise.all(
      Array.from({ length: 60 }, () =>
        reserve({ reservationId: randomUUID(), items: [{ productId: product.id, quantity: 1 }] }),
      ),
    );
    const lowest = await stopWatching();
    const statuses = responses.map((response) => response.statusCode);
    assert.equal(statuses.filter((status) => status === 201).length, 10);
    assert.equal(statuses.filter((status) => status === 409).length, 50);
    assert.ok(
      responses
        .filter((response) => response.statusCode === 409)
        .every((response) => response.json().code === 'INSUFFICIENT_STOCK'),
    );
    assert.equal(await inventory.available(product.id), 0);
    assert.ok(lowest >= 0, `stock was seen at ${lowest}`);
    const { rows } = await inventory.service.db.query<{ held: number }>(
      'SELECT sum(quantity)::int AS held FROM reservation_items WHERE product_id = $1',
      [product.id],
    );
    assert.equal(rows[0]!.held, 10);
  });

  it('when multi-item reservations name the same products in opposite orders, then none deadlocks and all succeed', async () => {
    const first = await inventory.createProduct({ stock: 100 });
    const second = await inventory.createProduct({ stock: 100 });
    const responses = await Promise.all(
      Array.from({ length: 60 }, (_, index) => {
        const items = [
          { productId: first.id, quantity: 1 },
          { productId: second.id, quantity: 1 },
        ];
        return reserve({ reservationId: randomUUID(), items: index % 2 === 0 ? items : items.toReversed() });
      }),
    );
    assert.deepEqual(
      responses.filter((response) => response.statusCode !== 201).map((response) => response.body),
      [],
    );
    assert.equal(await inventory.available(first.id), 40);
    assert.equal(await inventory.available(second.id), 40);
  });

  it('when reservations and releases in opposite orders interleave on scarce stock, then no deadlock and stock adds up', async () => {
    const first = await inventory.createProduct({ stock: 5 });
    const second = await inventory.createProduct({ stock: 5 });
    const reserved = new Set<string>();
    const work = Array.from({ length: 40 }, async (_, index) => {
      const items = [
        { productId: first.id, quantity: 1 },
        { productId: second.id, quantity: 1 },
      ];
      const reservationId = randomUUID();
      const response = await reserve({ reservationId, items: index % 2 === 0 ? items : items.toReversed() });
      assert.ok([201, 409].includes(response.statusCode), response.body);
      if (response.statusCode === 201 && index % 3 === 0) {
        assert.equal((await release(reservationId)).statusCode, 200);
      } else if (response.statusCode === 201) {
        reserved.add(reservationId);
      }
    });
    await Promise.all(work);
    assert.equal(await inventory.available(first.id), 5 - reserved.size);
    assert.equal(await inventory.available(second.id), 5 - reserved.size);
  });

  it('when the same reservation arrives many times at once, then it is held once: one 201, the rest 200', async () => {
    const product = await inventory.createProduct({ stock: 10 });
    const body = { reservationId: randomUUID(), items: [{ productId: product.id, quantity: 3 }] };
    const responses = await Promise.all(Array.from({ length: 20 }, () => reserve(body)));
    const statuses = responses.map((response) => response.statusCode).sort();
    assert.deepEqual(statuses, [...Array<number>(19).fill(200), 201]);
    assert.equal(await inventory.available(product.id), 7);
  });

  it('when a reserve and its compensating release race, then either way the stock ends where it began', async () => {
    const product = await inventory.createProduct({ stock: 50 });
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, async (_, index) => {
        const reservationId = randomUUID();
        const body = { reservationId, items: [{ productId: product.id, quantity: 2 }] };
        // Which call is sent first alternates; which one the database sees first is up to the race.
        const [reserved, released] =
          index % 2 === 0
            ? await Promise.all([reserve(body), release(reservationId)])
            : await Promise.all([release(reservationId), reserve(body)]).then(
                ([rel, res]) => [res, rel] as const,
              );
        assert.equal(released.statusCode, 200);
        assert.ok([201, 409].includes(reserved.statusCode), reserved.body);
        if (reserved.statusCode === 409) assert.equal(reserved.json().code, 'RESERVATION_RELEASED');
        const after = await inventory.service.app.inject({
          url: `/internal/reservations/${reservationId}`,
          headers: inventory.as.orders,
        });
        assert.equal(after.json().status, 'RELEASED');
        return reserved.statusCode;
      }),
    );
    assert.equal(outcomes.length, 20);
    assert.equal(await inventory.available(product.id), 50);
  });
});
