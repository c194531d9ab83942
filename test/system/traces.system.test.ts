// One order is one trace: the whole shop, started as `npm start` starts it, exports its spans to an in-test
// OTLP/HTTP receiver, and the spans of one order form one connected tree across the six services, the saga's
// steps and the bus hops. Once per transport, each with one of the two OTLP protocols.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
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

      it('when a customer orders, then its spans form one tree: gateway, orders, users, the saga, inventory, payments, the bus and notifications', async (t) => {
        const productId = await createProduct(5, 1200);
        const customer = await signUp('tracy');
        // The client's own span: the gateway continues it, so the order's trace is the one named here.
        const traceId = randomBytes(16).toString('hex');
        const clientSpanId = randomBytes(8).toString('hex');
        const response = await shop.api('POST', '/api/orders', {
          token: customer.token,
          headers: { 'idempotency-key': randomUUID(), traceparent: `00-${traceId}-${clientSpanId}-01` },
          body: { items: [{ productId, quantity: 1 }], payment: { card: TEST_CARDS.approves } },
        });
        assert.equal(response.status, 202, JSON.stringify(response.body));
        const order = await settle({ id: response.body.id, customer });
        assert.equal(order.status, 'CONFIRMED');

        const ofTrace = () => receiver.spans.filter((span) => span.traceId === traceId);
        const find = (spans: ReceivedSpan[], test: (span: ReceivedSpan) => boolean) => spans.find(test);
        // The last hop: notifications' handling of order.confirmed, which the saga's end published.
        await waitFor('notifications handling order.confirmed, exported', () =>
          find(
            ofTrace(),
            (span) => span.service === 'notifications' && span.name === 'process order.confirmed',
          ),
        );
        // A little longer for the spans that end after it (its queries) to arrive in the next batch.
        await new Promise((resolve) => setTimeout(resolve, 500));
        const spans = ofTrace();
        t.diagnostic(`the order's trace:\n${renderTrace(spans)}`);
        const byId = new Map(spans.map((span) => [span.spanId, span]));
        const describeSpan = (span: ReceivedSpan) => `${span.service} ${span.kind} '${span.name}'`;
        const parentOf = (span: ReceivedSpan) => byId.get(span.parentSpanId);
        const ancestors = (span: ReceivedSpan): ReceivedSpan[] => {
          const chain: ReceivedSpan[] = [];
          for (let parent = parentOf(span); parent !== undefined; parent = parentOf(parent))
            chain.push(parent);
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
          return found;
        };

        // One tree: the gateway's span is the only one whose parent is outside (the client's), and every other
        // span's parent is in the trace.
        const root = one('span continuing the client', (span) => span.parentSpanId === clientSpanId);
        assert.equal(root.service, 'gateway');
        assert.equal(root.kind, 'SERVER');
        assert.equal(root.attributes['http.response.status_code'], 202);
        for (const span of spans)
          if (span !== root)
            assert.ok(byId.has(span.parentSpanId), `the parent of ${describeSpan(span)} is in the trace`);
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
        childOf(
          getUser,
          (span) => span.kind === 'CLIENT' && span.attributes['db.system.name'] === 'postgresql',
          'a query',
        );

        // The saga's steps, each one attempt that succeeded, inside the order's request; each calls its participant.
        for (const [step, participant] of [
          ['reserve-stock', 'inventory'],
          ['charge-payment', 'payments'],
          ['commit-stock', 'inventory'],
        ] as const) {
          const attempt = one(`attempt of ${step}`, (span) => span.attributes['souk.saga.step'] === step);
          assert.equal(describeSpan(attempt), `orders INTERNAL 'place-order ${step}'`);
          assert.deepEqual(
            [
              attempt.attributes['souk.saga.name'],
              attempt.attributes['souk.saga.direction'],
              attempt.attributes['souk.saga.attempt'],
              attempt.attributes['souk.saga.outcome'],
            ],
            ['place-order', 'forward', 1, 'succeeded'],
          );
          assert.ok(ancestors(attempt).includes(placing), `${step} is inside the order's request`);
          const [call] = childOf(
            attempt,
            (span) => span.kind === 'CLIENT' && span.attributes['peer.service'] === participant,
            `the call to ${participant}`,
          );
          const [served] = childOf(
            call!,
            (span) => span.service === participant && span.kind === 'SERVER',
            `${participant}'s SERVER span`,
          );
          // The participant's queries are in its span.
          childOf(
            served!,
            (span) => span.kind === 'CLIENT' && span.attributes['db.system.name'] === 'postgresql',
            'a query',
          );
        }

        // The bus hops: each event published by the relay (PRODUCER, in the trace of what stored it) and handled by
        // notifications (CONSUMER, its child), over the transport under test.
        const system = transport === 'amqp' ? 'rabbitmq' : 'postgresql';
        for (const [type, publisher] of [
          ['order.created', 'orders'],
          ['payment.succeeded', 'payments'],
          ['order.confirmed', 'orders'],
        ] as const) {
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
          assert.equal(
            consume.attributes['messaging.message.id'],
            publish.attributes['messaging.message.id'],
          );
        }
        // order.confirmed was stored when the saga ended, in the order's request's trace; payment.succeeded by the
        // charge, in payments' SERVER span.
        assert.ok(ancestors(one('', (span) => span.name === 'publish order.confirmed')).includes(placing));
        assert.equal(parentOf(one('', (span) => span.name === 'publish payment.succeeded'))?.kind, 'SERVER');

        // The log lines of the order's requests name its trace, in the gateway and in orders.
        for (const service of ['gateway', 'orders']) {
          const served = logLines.filter(
            (line) => line.service === service && line.method === 'POST' && line.url === '/api/orders',
          );
          assert.deepEqual(
            served.map((line) => line.traceId),
            [traceId],
            `${service}'s request line names the trace`,
          );
        }

        // Nothing in the order's path failed.
        assert.deepEqual(spans.filter((span) => span.statusCode === 2).map(describeSpan), []);
        // Every service spoke the protocol asked for.
        assert.deepEqual([...receiver.contentTypes], [contentType]);
      });
    },
  );
}
