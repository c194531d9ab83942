// One order is one trace: the whole shop, started as `npm start` starts it, exports its spans to an in-test
// OTLP/HTTP receiver, and the spans of one order form one connected tree across the six services, the saga's
// steps (and compensations) and the bus hops. Once per transport, each with one of the two OTLP protocols.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it, type TestContext } from 'node:test';
import { TEST_CARDS } from '@souk/contracts';
import {
  renderTrace,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../support/otlp-receiver.ts';
import { ADMIN, skipReason, startTestShop, type RunningShop, type Transport } from './shop.fixture.ts';
import { shopClient } from './shop-client.ts';

const RUNS = [
  { transport: 'postgres', protocol: 'http/protobuf', contentType: 'application/x-protobuf' },
  { transport: 'amqp', protocol: 'http/json', contentType: 'application/json' },
] as const satisfies readonly { transport: Transport; protocol: string; contentType: string }[];

/** Spans arrive in batches after they end; the last ones (notifications' handling) some time after the order. */
async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    assert.ok(Date.now() < deadline, `${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const isQuery = (span: ReceivedSpan) =>
  span.kind === 'CLIENT' && span.attributes['db.system.name'] === 'postgresql';

/** Questions about one trace's spans, each failing with what it found instead. */
function traceTree(spans: ReceivedSpan[]) {
  const byId = new Map(spans.map((span) => [span.spanId, span]));
  const describeSpan = (span: ReceivedSpan) => `${span.service} ${span.kind} '${span.name}'`;
  const parentOf = (span: ReceivedSpan) => byId.get(span.parentSpanId);
  const ancestors = (span: ReceivedSpan): ReceivedSpan[] => {
    const chain: ReceivedSpan[] = [];
    for (let parent = parentOf(span); parent !== undefined; parent = parentOf(parent)) chain.push(parent);
    return chain;
  };
  const one = (what: string, test: (span: ReceivedSpan) => boolean): ReceivedSpan => {
    const found = spans.filter(test);
    assert.equal(found.length, 1, `one ${what}; got ${found.map(describeSpan).join(', ') || 'none'}`);
    return found[0]!;
  };
  const childOf = (parent: ReceivedSpan, test: (span: ReceivedSpan) => boolean, what: string) => {
    const found = spans.filter((span) => span.parentSpanId === parent.spanId && test(span));
    assert.ok(found.length > 0, `${what} under ${describeSpan(parent)}`);
    return found[0]!;
  };
  /** The span under the client's: the gateway's, and every other span's parent is in the trace. */
  const rootUnder = (clientSpanId: string) => {
    const root = one('span continuing the client', (span) => span.parentSpanId === clientSpanId);
    assert.equal(describeSpan(root).startsWith('gateway SERVER'), true, describeSpan(root));
    for (const span of spans)
      if (span !== root)
        assert.ok(byId.has(span.parentSpanId), `the parent of ${describeSpan(span)} is in the trace`);
    return root;
  };
  /** A saga step's attempt (or compensation), its call to the participant, and the participant's queries. */
  const attempt = (
    name: string,
    expected: { direction: 'forward' | 'compensation'; outcome: string; participant: string },
  ) => {
    const span = one(
      `attempt of ${name}`,
      (candidate) =>
        candidate.attributes['souk.saga.step'] === name &&
        candidate.attributes['souk.saga.direction'] === expected.direction,
    );
    assert.equal(span.service, 'orders');
    assert.equal(span.kind, 'INTERNAL');
    assert.deepEqual(
      [
        span.attributes['souk.saga.name'],
        span.attributes['souk.saga.attempt'],
        span.attributes['souk.saga.outcome'],
      ],
      ['place-order', 1, expected.outcome],
    );
    const call = childOf(
      span,
      (candidate) =>
        candidate.kind === 'CLIENT' && candidate.attributes['peer.service'] === expected.participant,
      `the call to ${expected.participant}`,
    );
    const served = childOf(
      call,
      (candidate) => candidate.service === expected.participant && candidate.kind === 'SERVER',
      `${expected.participant}'s SERVER span`,
    );
    childOf(served, isQuery, 'a query');
    return span;
  };
  /** An event's bus hop: the relay's PRODUCER span in the publisher, notifications' CONSUMER span its child. */
  const busHop = (type: string, publisher: string, system: string) => {
    const publish = one(
      `publish of ${type}`,
      (span) => span.kind === 'PRODUCER' && span.name === `publish ${type}`,
    );
    assert.equal(publish.service, publisher);
    assert.equal(publish.attributes['messaging.system'], system);
    const consume = one(
      `handling of ${type}`,
      (span) => span.kind === 'CONSUMER' && span.name === `process ${type}`,
    );
    assert.equal(consume.service, 'notifications');
    assert.equal(parentOf(consume), publish, `${type}: the CONSUMER span is the PRODUCER's child`);
    assert.equal(consume.attributes['messaging.consumer.group.name'], 'notifications');
    assert.equal(consume.attributes['messaging.message.id'], publish.attributes['messaging.message.id']);
    return publish;
  };
  return { describeSpan, parentOf, ancestors, one, childOf, rootUnder, attempt, busHop };
}

for (const { transport, protocol, contentType } of RUNS) {
  describe(
    `traces, on the ${transport} transport, exported as ${protocol}`,
    { skip: await skipReason(transport) },
    () => {
      let receiver: OtlpReceiver;
      let shop: RunningShop;
      let admin: string;
      /** The services' JSON log lines. */
      const logLines: Record<string, unknown>[] = [];
      const { signUp, createProduct, settle } = shopClient(
        (method, url, options) => shop.api(method, url, options),
        () => admin,
      );
      const system = transport === 'amqp' ? 'rabbitmq' : 'postgresql';

      before(async () => {
        receiver = await startOtlpReceiver();
        shop = await startTestShop(transport, {
          databasePort: 54369,
          portOffset: 14_000,
          env: {
            OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
            OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
            OTEL_BSP_SCHEDULE_DELAY: '100',
            // The request lines, to compare their trace id with the spans'.
            SOUK__LOG__LEVEL: 'info',
          },
          onLogLine: (_source, line) => {
            try {
              logLines.push(JSON.parse(line) as Record<string, unknown>);
            } catch {
              // Not a JSON log line (PostgreSQL's own output).
            }
          },
        });
        admin = (await shop.api('POST', '/api/auth/login', { body: ADMIN })).body.accessToken;
      });
      after(async () => {
        await shop?.close();
        await receiver?.close();
      });

      /**
       * Places an order under a client span of the test's own (the gateway continues it, so the order's trace is
       * the one named here), waits for it to end, and for the spans up to notifications' handling of `lastEvent`.
       */
      const traceOrder = async (t: TestContext, card: string, status: string, lastEvent: string) => {
        const productId = await createProduct(5, 1200);
        const customer = await signUp('tracy');
        const traceId = randomBytes(16).toString('hex');
        const clientSpanId = randomBytes(8).toString('hex');
        const response = await shop.api('POST', '/api/orders', {
          token: customer.token,
          headers: { 'idempotency-key': randomUUID(), traceparent: `00-${traceId}-${clientSpanId}-01` },
          body: { items: [{ productId, quantity: 1 }], payment: { card } },
        });
        assert.equal(response.status, 202, JSON.stringify(response.body));
        assert.equal((await settle({ id: response.body.id, customer })).status, status);
        const ofTrace = () => receiver.spans.filter((span) => span.traceId === traceId);
        await waitFor(`notifications handling ${lastEvent}, exported`, () =>
          ofTrace().find((span) => span.service === 'notifications' && span.name === `process ${lastEvent}`),
        );
        // A little longer for the spans that end after it (its queries) to arrive in the next batch.
        await new Promise((resolve) => setTimeout(resolve, 500));
        const spans = ofTrace();
        t.diagnostic(`the order's trace:\n${renderTrace(spans)}`);
        return { traceId, clientSpanId, spans, tree: traceTree(spans) };
      };

      it('when a customer orders, then its spans form one tree: gateway, orders, users, the saga, inventory, payments, the bus and notifications', async (t) => {
        const { traceId, clientSpanId, spans, tree } = await traceOrder(
          t,
          TEST_CARDS.approves,
          'CONFIRMED',
          'order.confirmed',
        );
        const { describeSpan, parentOf, ancestors, one, childOf, rootUnder, attempt, busHop } = tree;

        const root = rootUnder(clientSpanId);
        // Named by the route the gateway took, not its catch-all.
        assert.equal(root.name, 'POST /api/orders');
        assert.equal(root.attributes['http.route'], '/api/orders');
        assert.equal(root.attributes['http.response.status_code'], 202);
        assert.deepEqual([...new Set(spans.map((span) => span.service))].sort(), [
          'gateway',
          'inventory',
          'notifications',
          'orders',
          'payments',
          'users',
        ]);

        // gateway → orders over HTTP: a CLIENT span in the gateway, the SERVER span in orders under it.
        const placing = one(
          'orders SERVER span of the order',
          (span) => span.service === 'orders' && span.kind === 'SERVER' && span.name === 'POST /api/orders',
        );
        const proxied = parentOf(placing)!;
        assert.equal(describeSpan(proxied), "gateway CLIENT 'POST'");
        assert.equal(proxied.attributes['peer.service'], 'orders');
        assert.equal(parentOf(proxied), root);

        // orders → users over gRPC, with users' query under its SERVER span.
        const getUser = one(
          'users gRPC SERVER span',
          (span) => span.service === 'users' && span.kind === 'SERVER',
        );
        assert.equal(getUser.name, 'souk.users.v1.Users/GetUser');
        const grpcCall = parentOf(getUser)!;
        assert.equal(describeSpan(grpcCall), "orders CLIENT 'souk.users.v1.Users/GetUser'");
        assert.equal(grpcCall.attributes['rpc.system'], 'grpc');
        assert.ok(ancestors(grpcCall).includes(placing));
        childOf(getUser, isQuery, 'a query');

        // The saga's steps, each one attempt that succeeded, inside the order's request.
        for (const [step, participant] of [
          ['reserve-stock', 'inventory'],
          ['charge-payment', 'payments'],
          ['commit-stock', 'inventory'],
        ] as const) {
          const span = attempt(step, { direction: 'forward', outcome: 'succeeded', participant });
          assert.equal(span.name, `place-order ${step}`);
          assert.ok(ancestors(span).includes(placing), `${step} is inside the order's request`);
        }

        // The bus hops, over the transport under test. order.created was stored by the order's request, and
        // order.confirmed when the saga ended, both in its trace; payment.succeeded by the charge, in payments.
        for (const type of ['order.created', 'order.confirmed'])
          assert.ok(ancestors(busHop(type, 'orders', system)).includes(placing));
        assert.equal(
          describeSpan(parentOf(busHop('payment.succeeded', 'payments', system))!),
          "payments SERVER 'POST /internal/payments/charges'",
        );

        // The log lines of the order's requests name its trace, in the gateway and in orders.
        for (const service of ['gateway', 'orders']) {
          const served = logLines.filter(
            (line) => line.service === service && line.method === 'POST' && line.url === '/api/orders',
          );
          assert.deepEqual(
            served.filter((line) => line.traceId === traceId).length,
            1,
            `${service}'s request line names the trace`,
          );
        }

        // Nothing in the order's path failed.
        assert.deepEqual(spans.filter((span) => span.statusCode === 2).map(describeSpan), []);
        // Every service spoke the protocol asked for.
        assert.deepEqual([...receiver.contentTypes], [contentType]);
      });

      it('when the card is declined, then the rejected charge and the compensation of the reservation are in the trace', async (t) => {
        const { clientSpanId, spans, tree } = await traceOrder(
          t,
          TEST_CARDS.declines,
          'CANCELLED',
          'order.cancelled',
        );
        const { rootUnder, attempt, busHop, ancestors, one } = tree;
        rootUnder(clientSpanId);
        const placing = one(
          'orders SERVER span of the order',
          (span) => span.service === 'orders' && span.name === 'POST /api/orders',
        );
        const reserved = attempt('reserve-stock', {
          direction: 'forward',
          outcome: 'succeeded',
          participant: 'inventory',
        });
        // A decline is the business answer, not a fault: the attempt says so, and is not marked failed.
        const charged = attempt('charge-payment', {
          direction: 'forward',
          outcome: 'rejected',
          participant: 'payments',
        });
        assert.notEqual(charged.statusCode, 2);
        const undone = attempt('reserve-stock', {
          direction: 'compensation',
          outcome: 'succeeded',
          participant: 'inventory',
        });
        assert.equal(undone.name, 'place-order compensate reserve-stock');
        assert.ok(undone.startNanos >= charged.endNanos, 'the compensation follows the rejection');
        for (const span of [reserved, charged, undone]) assert.ok(ancestors(span).includes(placing));
        assert.deepEqual(
          spans.filter((span) => span.attributes['souk.saga.step'] === 'commit-stock'),
          [],
          'no stock is committed',
        );
        busHop('payment.failed', 'payments', system);
        assert.ok(ancestors(busHop('order.cancelled', 'orders', system)).includes(placing));
      });
    },
  );
}
