import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Pool } from '../db.ts';
import { countingCommits, createTestDatabase, testPool, type TestDatabase } from '../testing.ts';
import { createEnvelope } from './envelope.ts';
import {
  PostgresTransport,
  listDeadLetters,
  redriveDeadLetters,
  type PostgresTransportOptions,
} from './postgres.transport.ts';
import { activeTraceId } from '../tracing/index.ts';
import { eventually, recordingLogger } from './test-helpers.ts';
import { UnpublishableMessageError, type Envelope } from './transport.ts';

describe('PostgresTransport', () => {
  let database: TestDatabase;
  let inspect: Pool;
  let open: PostgresTransport[] = [];
  const { log } = recordingLogger();

  const transport = (options: Partial<PostgresTransportOptions> = {}) => {
    const created = new PostgresTransport({
      url: database.url,
      log,
      pollIntervalMs: 100,
      retry: { baseDelayMs: 10, maxDelayMs: 40 },
      ...options,
    });
    open.push(created);
    return created;
  };
  const events = (count: number, type = 'test.happened') =>
    Array.from({ length: count }, (_, i) => createEnvelope(type, { i }, { source: 'souk/test' }));
  const collector = () => {
    const received: Envelope[] = [];
    return { received, handle: async (envelope: Envelope) => void received.push(envelope) };
  };
  const pendingDeliveries = async (group: string) =>
    Number(
      (await inspect.query('SELECT count(*) FROM bus_deliveries WHERE group_name = $1', [group])).rows[0]
        .count,
    );

  before(async () => {
    database = await createTestDatabase('bus');
    inspect = testPool(database.url, 2);
  });

  afterEach(async () => {
    await Promise.all(open.map((t) => t.close()));
    open = [];
  });

  after(async () => {
    await inspect.end();
    await database.drop();
  });

  it('when many messages are handled at once, then the claims carry their acknowledgements, each once', async () => {
    const pool = testPool(database.url, 10);
    const counted = countingCommits(pool);
    const bus = transport({ pool: counted.pool });
    const received: Envelope[] = [];
    await bus.subscribe({
      group: 'acks',
      types: ['test.acked'],
      concurrency: 8,
      handle: async (envelope) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        received.push(envelope);
      },
    });
    const sent = events(40, 'test.acked');
    const before = counted.commits;
    await bus.publish(sent);
    await eventually(async () => (await pendingDeliveries('acks')) === 0, 'every delivery acknowledged');
    const commits = counted.commits - before;
    await bus.close();
    await pool.end();
    assert.deepEqual(
      received.map((envelope) => envelope.id).sort(),
      sent.map((envelope) => envelope.id).sort(),
    );
    // Each claim deletes the deliveries handled before it; a delete of their own is left for the last ones,
    // when no claim comes within acknowledgeWithinMs (acknowledged apart from the claims, the same run took
    // 32 commits, about half of them deletes).
    const lone = counted.autocommitted.filter((text) =>
      text.trimStart().startsWith('DELETE FROM bus_deliveries'),
    );
    assert.ok(lone.length <= 2, `${lone.length} deletes of their own`);
    assert.ok(commits < 0.7 * sent.length, `${commits} commits for ${sent.length} messages`);
  });

  it('when two groups subscribe to a type, then each receives every message of it, and others none', async () => {
    const bus = transport();
    const first = collector();
    const second = collector();
    const other = collector();
    await bus.subscribe({ group: 'fan-1', types: ['test.happened'], handle: first.handle });
    await bus.subscribe({ group: 'fan-2', types: ['test.happened', 'test.other'], handle: second.handle });
    await bus.subscribe({ group: 'fan-3', types: ['test.other'], handle: other.handle });
    const sent = events(3);
    await bus.publish(sent);
    await eventually(() => first.received.length === 3 && second.received.length === 3, 'both groups served');
    assert.deepEqual(first.received.map((e) => e.id).sort(), sent.map((e) => e.id).sort());
    assert.deepEqual(second.received.map((e) => e.id).sort(), sent.map((e) => e.id).sort());
    assert.deepEqual(
      second.received[0],
      sent.find((e) => e.id === second.received[0]!.id),
    );
    assert.equal(other.received.length, 0);
  });

  it('when a message was published before the group subscribed, then the group never receives it', async () => {
    const bus = transport();
    const late = collector();
    await bus.publish(events(1));
    await bus.subscribe({ group: 'late', types: ['test.happened'], handle: late.handle });
    const after = events(1);
    await bus.publish(after);
    await eventually(() => late.received.length === 1, 'the later message arrives');
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.deepEqual(
      late.received.map((e) => e.id),
      [after[0]!.id],
    );
  });

  it('when consumers compete in one group, then each message is handled once', async () => {
    const handledBy = new Map<string, string[]>();
    const consumer = (name: string) => async (envelope: Envelope) => {
      handledBy.set(envelope.id, [...(handledBy.get(envelope.id) ?? []), name]);
      await new Promise((resolve) => setTimeout(resolve, 2));
    };
    await transport().subscribe({
      group: 'compete',
      types: ['test.happened'],
      handle: consumer('a'),
      concurrency: 3,
    });
    await transport().subscribe({
      group: 'compete',
      types: ['test.happened'],
      handle: consumer('b'),
      concurrency: 3,
    });
    const sent = events(60);
    await transport().publish(sent);
    await eventually(() => handledBy.size === 60, 'all 60 handled');
    await eventually(async () => (await pendingDeliveries('compete')) === 0, 'all acknowledged');
    assert.deepEqual(
      [...handledBy.values()].filter((names) => names.length > 1),
      [],
    );
  });

  it('when a handler keeps failing, then it is retried and dead-lettered after maxAttempts, and can be redriven', async () => {
    const bus = transport();
    let attempts = 0;
    let healthy = false;
    await bus.subscribe({
      group: 'poison',
      types: ['test.happened'],
      maxAttempts: 3,
      handle: async () => {
        attempts += 1;
        if (!healthy) throw new Error('cannot handle this');
      },
    });
    const [poison] = events(1);
    await bus.publish([poison!]);
    await eventually(async () => (await bus.deadLetters('poison', 100)).length === 1, 'dead-lettered');
    assert.equal(attempts, 3);
    const [dead] = await listDeadLetters(inspect, 'poison');
    assert.deepEqual(dead!.envelope, poison);
    assert.equal(dead!.attempts, 3);
    assert.match(dead!.lastError!, /cannot handle this/);
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(attempts, 3);

    healthy = true;
    assert.equal(await redriveDeadLetters(inspect, 'poison'), 1);
    await eventually(async () => (await pendingDeliveries('poison')) === 0, 'redriven and handled');
    assert.equal(attempts, 4);
  });

  it('when a handler hangs past its timeout, then its signal aborts and the message is retried, then dead-lettered', async () => {
    const bus = transport();
    const aborted: unknown[] = [];
    await bus.subscribe({
      group: 'hung',
      types: ['test.happened'],
      maxAttempts: 2,
      timeoutMs: 100,
      // Hangs for good, whatever its signal says: only the transport's deadline frees the message.
      handle: (_envelope, context) => {
        context?.signal.addEventListener('abort', () => aborted.push(context.signal.reason));
        return new Promise<void>(() => {});
      },
    });
    const [sent] = events(1);
    await bus.publish([sent!]);
    await eventually(async () => (await listDeadLetters(inspect, 'hung')).length === 1, 'dead-lettered');
    const [dead] = await listDeadLetters(inspect, 'hung');
    assert.equal(dead!.attempts, 2);
    assert.match(dead!.lastError ?? '', /HandlerTimeoutError: the handler ran past its 100 ms/);
    assert.equal(aborted.length, 2);
  });

  it("when a message carries a traceparent, then its handler runs in the publisher's trace", async () => {
    const bus = transport();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const seen: Array<string | undefined> = [];
    await bus.subscribe({
      group: 'traced',
      types: ['test.happened'],
      handle: async () => void seen.push(activeTraceId()),
    });
    const traced = createEnvelope(
      'test.happened',
      {},
      { source: 'souk/test', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    );
    await bus.publish([traced]);
    await eventually(() => seen.length === 1, 'handled');
    assert.deepEqual(seen, [traceId]);
  });

  it('when the bus refuses a message (a lone surrogate), then publish rejects as unpublishable', async () => {
    const bus = transport();
    await bus.subscribe({ group: 'surrogates', types: ['test.happened'], handle: async () => {} });
    const refused = createEnvelope('test.happened', { name: '\ud800' }, { source: 'souk/test' });
    await assert.rejects(bus.publish([refused]), (error) => {
      assert.ok(error instanceof UnpublishableMessageError);
      assert.match(error.message, /invalid input syntax for type json/);
      return true;
    });
    assert.equal(await bus.deadLetterCount('surrogates'), 0);
  });

  it('when a consumer dies mid-message, then the message is redelivered after the visibility timeout', async () => {
    const stuck = transport({ visibilityTimeoutMs: 300, closeTimeoutMs: 50 });
    let started = 0;
    await stuck.subscribe({
      group: 'crash',
      types: ['test.happened'],
      handle: () => {
        started += 1;
        return new Promise<void>(() => {});
      },
    });
    const [message] = events(1);
    await stuck.publish([message!]);
    await eventually(() => started === 1, 'the first consumer took it');
    await stuck.close();

    const rescuer = collector();
    await transport().subscribe({ group: 'crash', types: ['test.happened'], handle: rescuer.handle });
    await eventually(() => rescuer.received.length === 1, 'redelivered to the next consumer', 3000);
    assert.equal(rescuer.received[0]!.id, message!.id);
    await eventually(async () => (await pendingDeliveries('crash')) === 0, 'acknowledged');
  });

  it('when a live handler outlasts the visibility timeout, then its lease is renewed and nobody else gets it', async () => {
    let handled = 0;
    const slow = async () => {
      handled += 1;
      await new Promise((resolve) => setTimeout(resolve, 700));
    };
    await transport({ visibilityTimeoutMs: 200 }).subscribe({
      group: 'slow',
      types: ['test.happened'],
      handle: slow,
    });
    await transport({ visibilityTimeoutMs: 200 }).subscribe({
      group: 'slow',
      types: ['test.happened'],
      handle: slow,
    });
    await transport().publish(events(1));
    await eventually(async () => handled === 1 && (await pendingDeliveries('slow')) === 0, 'handled', 3000);
    assert.equal(handled, 1);
  });

  it('when the consumer closes and reopens, then nothing published meanwhile is lost or repeated', async () => {
    const seen = collector();
    const subscription = { group: 'reopen', types: ['test.happened'], handle: seen.handle };
    const first = transport();
    await first.subscribe(subscription);
    const before = events(5);
    await first.publish(before);
    await eventually(() => seen.received.length === 5, 'the first five');
    await first.close();

    const publisher = transport();
    const during = events(5);
    await publisher.publish(during);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(seen.received.length, 5);

    await transport().subscribe(subscription);
    await eventually(() => seen.received.length === 10, 'the five published while closed');
    assert.deepEqual(seen.received.map((e) => e.id).sort(), [...before, ...during].map((e) => e.id).sort());
  });

  it('when handled messages age past the retention, then prune deletes them but keeps dead letters', async () => {
    const bus = transport({ retainMessagesMs: 0 });
    const seen = collector();
    await bus.subscribe({ group: 'prune', types: ['test.happened'], handle: seen.handle });
    await bus.publish(events(2));
    await eventually(async () => (await pendingDeliveries('prune')) === 0, 'handled');
    const deadBefore = (await inspect.query(`SELECT count(*) FROM bus_deliveries WHERE status = 'dead'`))
      .rows[0].count;
    assert.ok((await bus.prune()) >= 2);
    const deadAfter = (await inspect.query(`SELECT count(*) FROM bus_deliveries WHERE status = 'dead'`))
      .rows[0].count;
    assert.equal(deadAfter, deadBefore);
  });

  it('when the database answers, then check passes; after close, it fails', async () => {
    const bus = transport();
    await bus.check();
    await bus.close();
    await assert.rejects(bus.check());
  });
});
