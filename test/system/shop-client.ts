// A client of a running shop for the system tests: customers, products, orders placed as a client would (the
// same Idempotency-Key until accepted), and the invariants behind them. Works through any gateway.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TEST_CARDS } from '@souk/contracts';
import type { ApiResponse } from './shop.fixture.ts';

export type Api = (
  method: string,
  url: string,
  options?: { token?: string; body?: unknown; headers?: Record<string, string> },
) => Promise<ApiResponse>;

export interface Customer {
  id: string;
  token: string;
}

export interface Placed {
  id: string;
  customer: Customer;
  quantity: number;
}

/** `api` sends a request to the shop; `adminToken` is an admin's access token, for creating products. */
export function shopClient(api: Api, adminToken: () => string) {
  const signUp = async (name: string): Promise<Customer> => {
    const email = `${name}.${randomUUID().slice(0, 8)}@example.com`;
    const created = await api('POST', '/api/users', {
      body: { email, password: 'a-long-password', name },
    });
    assert.equal(created.status, 201);
    const login = await api('POST', '/api/auth/login', { body: { email, password: 'a-long-password' } });
    return { id: created.body.id, token: login.body.accessToken };
  };

  const createProduct = async (stock: number, amount = 1500): Promise<string> => {
    const response = await api('POST', '/api/products', {
      token: adminToken(),
      body: {
        sku: `SYS-${randomUUID().slice(0, 8)}`,
        name: 'Hand-woven basket',
        description: 'Palm leaf.',
        price: { amount, currency: 'USD' },
        stock,
      },
    });
    assert.equal(response.status, 201);
    return response.body.id;
  };

  const available = async (productId: string): Promise<number> =>
    (await api('GET', `/api/products/${productId}`)).body.stock.available;

  /** Places an order as a client would: the same Idempotency-Key again until the shop accepts it. */
  const placeOrder = async (
    customer: Customer,
    productId: string,
    quantity: number,
    card: string = TEST_CARDS.approves,
  ) => {
    const key = randomUUID();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const response = await api('POST', '/api/orders', {
        token: customer.token,
        headers: { 'idempotency-key': key },
        body: { items: [{ productId, quantity }], payment: { card } },
      }).catch(() => undefined);
      if (response?.status === 202) return { id: response.body.id as string, customer, quantity, response };
      if (response && response.status < 500 && response.status !== 409) {
        assert.fail(`order refused: ${response.status} ${JSON.stringify(response.body)}`);
      }
      assert.ok(Date.now() < deadline, 'the shop accepted the order within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  const orderOf = async (placed: { id: string; customer: Customer }) =>
    (await api('GET', `/api/orders/${placed.id}`, { token: placed.customer.token })).body;

  const settle = async (placed: { id: string; customer: Customer }, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const order = await orderOf(placed).catch(() => undefined);
      if (order?.status === 'CONFIRMED' || order?.status === 'CANCELLED') return order;
      assert.ok(Date.now() < deadline, `order ${placed.id} is terminal within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const paymentsOf = async (placed: { id: string; customer: Customer }) =>
    (await api('GET', `/api/payments?orderId=${placed.id}`, { token: placed.customer.token })).body.items as {
      status: string;
      amount: { amount: number; currency: string };
    }[];

  /** The invariants: every order terminal, stock conserved and never oversold, money only for confirmed ones. */
  const assertInvariants = async (productId: string, initial: number, orders: Placed[]) => {
    let confirmedUnits = 0;
    for (const placed of orders) {
      const order = await settle(placed);
      const succeeded = (await paymentsOf(placed)).filter((payment) => payment.status === 'SUCCEEDED');
      if (order.status === 'CONFIRMED') {
        confirmedUnits += placed.quantity;
        assert.equal(succeeded.length, 1, `confirmed order ${placed.id} is charged exactly once`);
        assert.deepEqual(succeeded[0]!.amount, order.total);
      } else {
        assert.equal(succeeded.length, 0, `cancelled order ${placed.id} keeps no money`);
      }
    }
    const left = await available(productId);
    assert.ok(left >= 0, 'stock never below zero');
    assert.equal(initial, left + confirmedUnits, 'stock conserved: initial = available + confirmed');
    return confirmedUnits;
  };

  return { signUp, createProduct, available, placeOrder, orderOf, settle, paymentsOf, assertInvariants };
}
