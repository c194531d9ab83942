// Test support: a payments service on a throwaway database, a processor that counts what it is asked, and the
// identities its callers present.
import { randomUUID } from 'node:crypto';
import type { Service } from '@souk/chassis';
import { createTestDatabase, testEnvironment, type TestDatabase } from '@souk/chassis/testing';
import { TEST_CARDS, type Charge } from '@souk/contracts';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildPayments, type PaymentsConfig } from '../app.ts';
import { CardVault, cardToken } from '../data/cards.repository.ts';
import { PaymentsRepository } from '../data/payments.repository.ts';
import type {
  CardProcessor,
  ChargeRequest,
  ChargeStatus,
  ProcessorDecision,
} from '../processor/card-processor.ts';
import { SimulatedCardProcessor } from '../processor/simulated.processor.ts';

/**
 * The simulated processor, counting its charges and look-ups; `delayMs` widens the window in which requests
 * overlap.
 */
export class RecordingProcessor implements CardProcessor {
  readonly calls: ChargeRequest[] = [];
  readonly lookups: ChargeRequest[] = [];
  delayMs = 0;
  readonly #inner = new SimulatedCardProcessor();

  async charge(request: ChargeRequest, options: { signal?: AbortSignal } = {}): Promise<ProcessorDecision> {
    this.calls.push(request);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return this.#inner.charge(request, options);
  }

  async status(request: ChargeRequest, options: { signal?: AbortSignal } = {}): Promise<ChargeStatus> {
    this.lookups.push(request);
    return this.#inner.status(request, options);
  }

  callsFor(reference: string): number {
    return this.calls.filter((call) => call.reference === reference).length;
  }
}

export interface LedgerRow {
  journal_id: string;
  payment_id: string;
  kind: 'charge' | 'refund';
  account: string;
  amount: number;
  currency: string;
}

type Headers = Record<string, string>;

export interface PaymentsFixture {
  service: Service<PaymentsConfig>;
  database: TestDatabase;
  processor: RecordingProcessor;
  /** `x-souk-identity` headers for each kind of caller. */
  as: {
    orders: Headers;
    inventory: Headers;
    admin: Headers;
    customer: Headers;
    otherCustomer: Headers;
  };
  /** The user ids behind `as.customer` and `as.otherCustomer`. */
  users: { customer: string; otherCustomer: string };
  /** The service's data layer, for steps a test plays by hand (a worker that dies half-way). */
  repository: PaymentsRepository;
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  /**
   * A charge of 19.99 USD on the approving card, for a new order of `as.customer`. `card` names another card by
   * its number: the test cards are kept in the vault from the start; any other number is an unknown token.
   */
  chargeBody(overrides?: Partial<Charge> & { card?: string }): Charge;
  /** The token of a card number (kept in the vault or not). */
  tokenOf(card: string): string;
  charge(body: Charge, key?: string | null, headers?: Headers): Promise<LightMyRequestResponse>;
  refund(orderId: string, key?: string | null, headers?: Headers): Promise<LightMyRequestResponse>;
  ledger(paymentId?: string): Promise<LedgerRow[]>;
  paymentRows(orderId: string): Promise<Array<{ id: string; status: string }>>;
  close(): Promise<void>;
}

/** A service whose processor times out after `processorTimeoutMs` (kept low, for the card that hangs). */
export async function startPayments(
  label: string,
  options: { processorTimeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<PaymentsFixture> {
  const database = await createTestDatabase(label);
  const processor = new RecordingProcessor();
  const service = await buildPayments({
    env: {
      ...testEnvironment(database.url),
      SOUK__PROCESSOR__TIMEOUT_MS: String(options.processorTimeoutMs ?? 300),
      ...options.env,
    },
    processor,
  });
  await service.app.ready();
  const secret = service.config.current.internal.secret;
  const vault = new CardVault(service.db, () => secret);
  for (const card of Object.values(TEST_CARDS)) await vault.tokenise(card);
  const tokenOf = (card: string) => cardToken(secret, card);
  const exp = Math.floor(Date.now() / 1000) + 600;
  const header = (credential: string) => ({ 'x-souk-identity': credential });
  const users = { customer: randomUUID(), otherCustomer: randomUUID() };
  const as = {
    orders: header(service.identity.sign({ kind: 'service', name: 'orders', exp })),
    inventory: header(service.identity.sign({ kind: 'service', name: 'inventory', exp })),
    admin: header(service.identity.sign({ kind: 'user', sub: randomUUID(), role: 'admin', exp })),
    customer: header(service.identity.sign({ kind: 'user', sub: users.customer, role: 'customer', exp })),
    otherCustomer: header(
      service.identity.sign({ kind: 'user', sub: users.otherCustomer, role: 'customer', exp }),
    ),
  };
  const keyHeader = (key: string | null | undefined): Headers =>
    key === null ? {} : { 'idempotency-key': key ?? randomUUID() };
  const inject = (options: InjectOptions) => service.app.inject(options);
  return {
    service,
    database,
    processor,
    as,
    users,
    repository: new PaymentsRepository(service.db, {
      fingerprintSecret: service.config.current.internal.secret,
      outbox: service.outbox,
    }),
    inject,
    chargeBody: ({ card = TEST_CARDS.approves, ...overrides } = {}) => ({
      orderId: randomUUID(),
      userId: users.customer,
      amount: { amount: 1999, currency: 'USD' },
      cardToken: tokenOf(card),
      ...overrides,
    }),
    tokenOf,
    charge: (body, key, headers = as.orders) =>
      inject({
        method: 'POST',
        url: '/internal/payments/charges',
        headers: { ...headers, ...keyHeader(key) },
        payload: body,
      }),
    refund: (orderId, key, headers = as.orders) =>
      inject({
        method: 'POST',
        url: '/internal/payments/refunds',
        headers: { ...headers, ...keyHeader(key) },
        payload: { orderId },
      }),
    async ledger(paymentId) {
      const { rows } = await service.db.query<LedgerRow>(
        `SELECT journal_id, payment_id, kind, account, amount, currency FROM ledger_entries
         WHERE $1::uuid IS NULL OR payment_id = $1 ORDER BY id`,
        [paymentId ?? null],
      );
      return rows;
    },
    async paymentRows(orderId) {
      const { rows } = await service.db.query<{ id: string; status: string }>(
        'SELECT id, status FROM payments WHERE order_id = $1 ORDER BY created_at, id',
        [orderId],
      );
      return rows;
    },
    async close() {
      await service.stop();
      await database.drop();
    },
  };
}
