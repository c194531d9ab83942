// Reservation rules, without I/O: all-or-nothing planning, price capture, and the status transitions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  commitTransition,
  mergeLines,
  planReservation,
  releaseTransition,
  sameLines,
  type StockLevel,
} from './reservation.model.ts';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const C = '00000000-0000-4000-8000-00000000000c';
const usd = (amount: number) => ({ amount, currency: 'USD' });

describe('mergeLines', () => {
  it('when a product appears twice, then its quantities are summed on its first line', () => {
    assert.deepEqual(
      mergeLines([
        { productId: B, quantity: 1 },
        { productId: A, quantity: 2 },
        { productId: B.toUpperCase(), quantity: 3 },
      ]),
      [
        { productId: B, quantity: 4 },
        { productId: A, quantity: 2 },
      ],
    );
  });
});

describe('sameLines', () => {
  it('when two requests hold the same quantities in another order, then they are the same', () => {
    assert.equal(
      sameLines(
        [
          { productId: A, quantity: 1 },
          { productId: B, quantity: 2 },
        ],
        [
          { productId: B, quantity: 2 },
          { productId: A, quantity: 1 },
        ],
      ),
      true,
    );
  });

  it('when a quantity or a product differs, then they are not', () => {
    assert.equal(sameLines([{ productId: A, quantity: 1 }], [{ productId: A, quantity: 2 }]), false);
    assert.equal(
      sameLines(
        [{ productId: A, quantity: 1 }],
        [
          { productId: A, quantity: 1 },
          { productId: B, quantity: 1 },
        ],
      ),
      false,
    );
  });
});

describe('planReservation', () => {
  const stock: StockLevel[] = [
    { id: A, available: 5, price: usd(1000) },
    { id: B, available: 0, price: usd(250) },
    { id: C, available: 9, price: { amount: 900, currency: 'EUR' } },
  ];

  it('given enough stock, when every item is asked for, then each captures its current price', () => {
    const plan = planReservation([{ productId: A, quantity: 5 }], stock);
    assert.deepEqual(plan, { ok: true, value: [{ productId: A, quantity: 5, unitPrice: usd(1000) }] });
  });

  it('when one item is short, then the whole reservation is refused with that product named', () => {
    const plan = planReservation(
      [
        { productId: A, quantity: 1 },
        { productId: B, quantity: 1 },
      ],
      stock,
    );
    assert.equal(plan.ok, false);
    assert.equal(!plan.ok && plan.rejection.code, 'INSUFFICIENT_STOCK');
    assert.equal(!plan.ok && plan.rejection.extensions?.productId, B);
  });

  it('when a product is unknown, then it is refused as UNKNOWN_PRODUCT (422)', () => {
    const missing = '00000000-0000-4000-8000-0000000000ff';
    const plan = planReservation([{ productId: missing, quantity: 1 }], stock);
    assert.equal(!plan.ok && plan.rejection.status, 422);
    assert.equal(!plan.ok && plan.rejection.code, 'UNKNOWN_PRODUCT');
    assert.equal(!plan.ok && plan.rejection.extensions?.productId, missing);
  });

  it('when the items are priced in two currencies, then it is refused as MIXED_CURRENCIES (422)', () => {
    const plan = planReservation(
      [
        { productId: A, quantity: 1 },
        { productId: C, quantity: 1 },
      ],
      stock,
    );
    assert.equal(!plan.ok && plan.rejection.code, 'MIXED_CURRENCIES');
  });

  it('for any stock and request, then a plan is accepted exactly when every line fits, and never takes more than there is', () => {
    const ids = [A, B, C];
    const levels = fc
      .tuple(...ids.map(() => fc.nat({ max: 20 })))
      .map((available) => ids.map((id, index) => ({ id, available: available[index]!, price: usd(100) })));
    const request = fc.uniqueArray(
      fc.record({ productId: fc.constantFrom(...ids), quantity: fc.integer({ min: 1, max: 25 }) }),
      { minLength: 1, selector: (line) => line.productId },
    );
    fc.assert(
      fc.property(levels, request, (stockLevels, lines) => {
        const plan = planReservation(lines, stockLevels);
        const fits = lines.every(
          (line) => line.quantity <= stockLevels.find((level) => level.id === line.productId)!.available,
        );
        assert.equal(plan.ok, fits);
        if (plan.ok)
          assert.deepEqual(
            plan.value.map((item) => item.productId),
            lines.map((l) => l.productId),
          );
      }),
    );
  });
});

describe('reservation transitions', () => {
  const id = '00000000-0000-4000-8000-000000000001';

  it('when a RESERVED reservation is committed, then it becomes COMMITTED; committing again changes nothing', () => {
    assert.deepEqual(commitTransition(id, 'RESERVED'), {
      ok: true,
      value: { status: 'COMMITTED', changed: true },
    });
    assert.deepEqual(commitTransition(id, 'COMMITTED'), {
      ok: true,
      value: { status: 'COMMITTED', changed: false },
    });
  });

  it('when a RELEASED reservation is committed, then it is refused as RESERVATION_RELEASED (409)', () => {
    const outcome = commitTransition(id, 'RELEASED');
    assert.equal(!outcome.ok && outcome.rejection.status, 409);
    assert.equal(!outcome.ok && outcome.rejection.code, 'RESERVATION_RELEASED');
  });

  it('when a reservation is released, then it ends RELEASED and returns stock only the first time', () => {
    assert.deepEqual(releaseTransition('RESERVED'), { status: 'RELEASED', returnsStock: true });
    assert.deepEqual(releaseTransition('COMMITTED'), { status: 'RELEASED', returnsStock: true });
    assert.deepEqual(releaseTransition('RELEASED'), { status: 'RELEASED', returnsStock: false });
  });
});
