// The internal reservations contract on real PostgreSQL: idempotency, all-or-nothing, commit, release, tombstones.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Reservation, ReserveStock } from '@souk/contracts';
import { startInventory, type InventoryFixture } from '../testing/inventory.fixture.ts';

describe('reservations API (internal)', () => {
  let inventory: InventoryFixture;

  before(async () => {
    inventory = await startInventory('reservations');
  });

  after(async () => {
    await inventory.close();
  });

  const reserve = (body: ReserveStock, headers = inventory.as.orders) =>
    inventory.service.app.inject({ method: 'POST', url: '/internal/reservations', headers, payload: body });
  const act = (id: string, action: 'commit' | 'release') =>
    inventory.service.app.inject({
      method: 'POST',
      url: `/internal/reservations/${id}/${action}`,
      headers: inventory.as.orders,
    });
  const read = (id: string) =>
    inventory.service.app.inject({ url: `/internal/reservations/${id}`, headers: inventory.as.orders });

  describe('reserving', () => {
    it('when every item is in stock, then 201 RESERVED with the prices of the moment and the stock held', async () => {
      const tea = await inventory.createProduct({ stock: 10, price: { amount: 1299, currency: 'USD' } });
      const pot = await inventory.createProduct({ stock: 4, price: { amount: 6900, currency: 'USD' } });
      const reservationId = randomUUID();
      const response = await reserve({
        reservationId,
        items: [
          { productId: tea.id, quantity: 3 },
          { productId: pot.id, quantity: 4 },
        ],
      });
      assert.equal(response.statusCode, 201);
      const expected: Reservation = {
        reservationId,
        status: 'RESERVED',
        items: [
          { productId: tea.id, quantity: 3, unitPrice: { amount: 1299, currency: 'USD' } },
          { productId: pot.id, quantity: 4, unitPrice: { amount: 6900, currency: 'USD' } },
        ],
      };
      assert.deepEqual(response.json(), expected);
      assert.equal(await inventory.available(tea.id), 7);
      assert.equal(await inventory.available(pot.id), 0);
      assert.deepEqual((await read(reservationId)).json(), expected);
    });

    it('when the same reservation is sent again, then 200 with the same reservation and no stock taken twice', async () => {
      const product = await inventory.createProduct({ stock: 10 });
      const body = { reservationId: randomUUID(), items: [{ productId: product.id, quantity: 4 }] };
      const first = await reserve(body);
      const replay = await reserve(body);
      assert.equal(first.statusCode, 201);
      assert.equal(replay.statusCode, 200);
      assert.deepEqual(replay.json(), first.json());
      assert.equal(await inventory.available(product.id), 6);
    });

    it('when the same id comes back with other items, then 422 RESERVATION_MISMATCH', async () => {
      const product = await inventory.createProduct({ stock: 10 });
      const reservationId = randomUUID();
      await reserve({ reservationId, items: [{ productId: product.id, quantity: 1 }] });
      const response = await reserve({ reservationId, items: [{ productId: product.id, quantity: 2 }] });
      assert.equal(response.statusCode, 422);
      assert.equal(response.json().code, 'RESERVATION_MISMATCH');
      assert.equal(await inventory.available(product.id), 9);
    });

    it('when one item is short, then 409 INSUFFICIENT_STOCK naming it, nothing is held, and the id stays free', async () => {
      const plenty = await inventory.createProduct({ stock: 10 });
      const scarce = await inventory.createProduct({ stock: 1 });
      const body = {
        reservationId: randomUUID(),
        items: [
          { productId: plenty.id, quantity: 5 },
          { productId: scarce.id, quantity: 2 },
        ],
      };
      const response = await reserve(body);
      assert.equal(response.statusCode, 409);
      assert.equal(response.json().code, 'INSUFFICIENT_STOCK');
      assert.equal(response.json().productId, scarce.id);
      assert.equal(await inventory.available(plenty.id), 10);
      assert.equal(await inventory.available(scarce.id), 1);
      assert.equal((await read(body.reservationId)).statusCode, 404);

      await inventory.service.app.inject({
        method: 'POST',
        url: `/api/products/${scarce.id}/restock`,
        headers: inventory.as.admin,
        payload: { quantity: 1 },
      });
      assert.equal((await reserve(body)).statusCode, 201);
    });

    it('when a product is unknown, then 422 UNKNOWN_PRODUCT naming it', async () => {
      const known = await inventory.createProduct({ stock: 10 });
      const missing = randomUUID();
      const response = await reserve({
        reservationId: randomUUID(),
        items: [
          { productId: known.id, quantity: 1 },
          { productId: missing, quantity: 1 },
        ],
      });
      assert.equal(response.statusCode, 422);
      assert.equal(response.json().code, 'UNKNOWN_PRODUCT');
      assert.equal(response.json().productId, missing);
      assert.equal(await inventory.available(known.id), 10);
    });

    it('when the items are priced in two currencies, then 422 MIXED_CURRENCIES', async () => {
      const dollars = await inventory.createProduct({ price: { amount: 100, currency: 'USD' } });
      const euros = await inventory.createProduct({ price: { amount: 100, currency: 'EUR' } });
      const response = await reserve({
        reservationId: randomUUID(),
        items: [
          { productId: dollars.id, quantity: 1 },
          { productId: euros.id, quantity: 1 },
        ],
      });
      assert.equal(response.statusCode, 422);
      assert.equal(response.json().code, 'MIXED_CURRENCIES');
    });

    it('when a product appears on two lines, then they are held as one line', async () => {
      const product = await inventory.createProduct({ stock: 10 });
      const response = await reserve({
        reservationId: randomUUID(),
        items: [
          { productId: product.id, quantity: 2 },
          { productId: product.id, quantity: 3 },
        ],
      });
      assert.equal(response.statusCode, 201);
      assert.deepEqual(
        response.json().items.map((item: { quantity: number }) => item.quantity),
        [5],
      );
      assert.equal(await inventory.available(product.id), 5);
    });

    it('when the price changes after reserving, then the reservation keeps the price it captured', async () => {
      const product = await inventory.createProduct({ price: { amount: 500, currency: 'USD' } });
      const reservationId = randomUUID();
      await reserve({ reservationId, items: [{ productId: product.id, quantity: 1 }] });
      await inventory.service.app.inject({
        method: 'PATCH',
        url: `/api/products/${product.id}`,
        headers: inventory.as.admin,
        payload: { price: { amount: 900, currency: 'USD' } },
      });
      assert.deepEqual((await read(reservationId)).json().items[0].unitPrice, {
        amount: 500,
        currency: 'USD',
      });
    });

    it('when the body is malformed, then 400', async () => {
      const product = await inventory.createProduct();
      for (const payload of [
        { reservationId: 'r-1', items: [{ productId: product.id, quantity: 1 }] },
        { reservationId: `urn:uuid:${randomUUID()}`, items: [{ productId: product.id, quantity: 1 }] },
        { reservationId: randomUUID(), items: [] },
        { reservationId: randomUUID(), items: [{ productId: product.id, quantity: 0 }] },
        { reservationId: randomUUID(), items: [{ productId: product.id, quantity: 1, price: 1 }] },
      ]) {
        const response = await reserve(payload);
        assert.equal(response.statusCode, 400, JSON.stringify(payload));
      }
    });
  });

  describe('committing and releasing', () => {
    const held = async (quantity = 3, stock = 10) => {
      const product = await inventory.createProduct({ stock });
      const reservationId = randomUUID();
      const response = await reserve({ reservationId, items: [{ productId: product.id, quantity }] });
      assert.equal(response.statusCode, 201);
      return { product, reservationId };
    };

    it('when a held reservation is committed, then COMMITTED, again idempotently, and the stock stays sold', async () => {
      const { product, reservationId } = await held();
      const first = await act(reservationId, 'commit');
      assert.equal(first.statusCode, 200);
      assert.equal(first.json().status, 'COMMITTED');
      const again = await act(reservationId, 'commit');
      assert.equal(again.statusCode, 200);
      assert.deepEqual(again.json(), first.json());
      assert.equal(await inventory.available(product.id), 7);
    });

    it('when a held reservation is released, then RELEASED with the stock back, once however often it is released', async () => {
      const { product, reservationId } = await held();
      const first = await act(reservationId, 'release');
      assert.equal(first.statusCode, 200);
      assert.equal(first.json().status, 'RELEASED');
      assert.equal(await inventory.available(product.id), 10);
      const again = await act(reservationId, 'release');
      assert.equal(again.statusCode, 200);
      assert.deepEqual(again.json(), first.json());
      assert.equal(await inventory.available(product.id), 10);
    });

    it('when a committed reservation is released (a confirmed order cancelled), then the stock comes back', async () => {
      const { product, reservationId } = await held(4);
      await act(reservationId, 'commit');
      const released = await act(reservationId, 'release');
      assert.equal(released.json().status, 'RELEASED');
      assert.equal(await inventory.available(product.id), 10);
    });

    it('when a released reservation is committed or reserved again, then 409 RESERVATION_RELEASED', async () => {
      const { product, reservationId } = await held();
      await act(reservationId, 'release');
      const commit = await act(reservationId, 'commit');
      assert.equal(commit.statusCode, 409);
      assert.equal(commit.json().code, 'RESERVATION_RELEASED');
      const replay = await reserve({ reservationId, items: [{ productId: product.id, quantity: 3 }] });
      assert.equal(replay.statusCode, 409);
      assert.equal(replay.json().code, 'RESERVATION_RELEASED');
      assert.equal(await inventory.available(product.id), 10);
    });

    it('when an unknown id is released, then 200 RELEASED, and a late reserve with that id takes nothing (409)', async () => {
      const product = await inventory.createProduct({ stock: 10 });
      const reservationId = randomUUID();
      const release = await act(reservationId, 'release');
      assert.equal(release.statusCode, 200);
      assert.deepEqual(release.json(), { reservationId, status: 'RELEASED', items: [] });
      assert.deepEqual((await read(reservationId)).json(), release.json());

      const late = await reserve({ reservationId, items: [{ productId: product.id, quantity: 2 }] });
      assert.equal(late.statusCode, 409);
      assert.equal(late.json().code, 'RESERVATION_RELEASED');
      assert.equal(await inventory.available(product.id), 10);
      assert.equal((await act(reservationId, 'commit')).statusCode, 409);
    });

    it('when an unknown id is committed or read, then 404 RESERVATION_NOT_FOUND', async () => {
      const id = randomUUID();
      const commit = await act(id, 'commit');
      assert.equal(commit.statusCode, 404);
      assert.equal(commit.json().code, 'RESERVATION_NOT_FOUND');
      assert.equal((await read(id)).statusCode, 404);
    });

    it('when the id in the path is not a UUID, then 400', async () => {
      assert.equal((await act('nope', 'release')).statusCode, 400);
      assert.equal((await read('nope')).statusCode, 400);
    });
  });

  describe('who may call', () => {
    it('when there is no identity, then 401; a user, even an admin, or another service, 403', async () => {
      const product = await inventory.createProduct();
      const body = { reservationId: randomUUID(), items: [{ productId: product.id, quantity: 1 }] };
      const noIdentity = await inventory.service.app.inject({
        method: 'POST',
        url: '/internal/reservations',
        payload: body,
      });
      assert.equal(noIdentity.statusCode, 401);
      for (const headers of [inventory.as.customer, inventory.as.admin, inventory.as.payments]) {
        assert.equal((await reserve(body, headers)).statusCode, 403);
        const release = await inventory.service.app.inject({
          method: 'POST',
          url: `/internal/reservations/${body.reservationId}/release`,
          headers,
        });
        assert.equal(release.statusCode, 403);
      }
      assert.equal(await inventory.available(product.id), 10);
      assert.equal((await read(body.reservationId)).statusCode, 404);
    });
  });
});
