import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { connect } from 'amqplib';
import { migrate, withTransaction, type Pool } from '../db.ts';
import {
  createTestDatabase,
  skipWithoutRabbitMq,
  TEST_AMQP_URL as AMQP_URL,
  testPool,
  type TestDatabase,
} from '../testing.ts';
import {
  AmqpTransport,
  BrokerUnavailableError,
  amqpTopology,
  type AmqpTransportOptions,
} from './amqp.transport.ts';
import { createEnvelope } from './envelope.ts';
import { consumeOnce } from './inbox.ts';
import { MESSAGING_MIGRATIONS, Outbox, OutboxRelay } from './outbox.ts';
import { eventually, recordingLogger } from './test-helpers.ts';
import type { Envelope } from './transport.ts';

const run = promisify(execFile);

/** Closes, from the broker's side, every connection whose name starts with `prefix`; resolves with how many. */
async function dropConnections(prefix: string): Promise<number> {
  const { stdout } = await run('rabbitmqctl', [
    'list_connections',
    '--quiet',
    '--no-table-headers',
    'pid',
    'client_properties',
  ]);
  const pids = stdout
    .split('\n')
    .filter((line) => line.includes(`{"connection_name","${prefix}`))
    .map((line) => line.split('\t')[0]!);
  await Promise.all(pids.map((pid) => run('rabbitmqctl', ['close_connection', pid, 'test'])));
  return pids.length;
}

describe('AmqpTransport', { skip: await skipWithoutRabbitMq() }, () => {
  const namespace = `souk_test_${randomBytes(4).toString('hex')}`;
  const topology = amqpTopology(namespace);
  const groups = new Set<string>();
  let open: AmqpTransport[] = [];

  const transport = (name: string, options: Partial<AmqpTransportOptions> = {}) => {
    const recorder = recordingLogger();
    const created = new AmqpTransport({
      url: AMQP_URL,
      namespace,
      connectionName: `${namespace}:${name}`,
      log: recorder.log,
      reconnect: { baseDelayMs: 100, maxDelayMs: 400 },
      retry: { baseDelayMs: 10, maxDelayMs: 40 },
      ...options,
    });
    open.push(created);
    return { transport: created, lines: recorder.lines };
  };
  const group = (name: string) => {
    groups.add(name);
    return name;
  };
  const events = (count: number, type = 'test.happened') =>
    Array.from({ length: count }, (_, i) => createEnvelope(type, { i }, { source: 'souk/test' }));

  afterEach(async () => {
    await Promise.all(open.map((t) => t.close()));
    open = [];
  });

  after(async () => {
    const connection = await connect(AMQP_URL);
    const channel = await connection.createChannel();
    for (const name of groups) {
      await channel.deleteQueue(topology.queue(name));
      await channel.deleteQueue(topology.deadLetterQueue(name));
    }
    await channel.deleteExchange(topology.exchange);
    await channel.deleteExchange(topology.deadLetterExchange);
    await connection.close();
  });

  it('when messages are published, then the subscribed group receives each of them intact', async () => {
    const { transport: bus } = transport('basic');
    const received: Envelope[] = [];
    await bus.subscribe({
      group: group('basic'),
      types: ['test.happened'],
      handle: async (envelope) => void received.push(envelope),
    });
    const sent = events(400);
    await bus.publish([...sent, ...events(3, 'test.unrelated')]);
    await eventually(() => received.length === 400, 'all 400 consumed');
    assert.deepEqual(
      received.toSorted((a, b) => a.id.localeCompare(b.id)),
      sent.toSorted((a, b) => a.id.localeCompare(b.id)),
    );
    await bus.check();
  });

  it('when a batch overflows the socket buffer, then publish waits for it to drain and resolves confirmed', async () => {
    const { transport: bus, lines } = transport('backpressure');
    const large = Array.from({ length: 3000 }, () =>
      createEnvelope('test.unrouted', 'x'.repeat(4000), { source: 'souk/test' }),
    );
    await bus.publish(large);
    assert.ok(lines.some((line) => line.msg === 'publish buffer full; waiting for it to drain'));
  });

  it('when a handler always throws, then the message ends in the dead-letter queue after the limit', async () => {
    const { transport: bus } = transport('poison');
    let attempts = 0;
    await bus.subscribe({
      group: group('poison'),
      types: ['test.poisoned'],
      maxAttempts: 3,
      handle: async () => {
        attempts += 1;
        throw new Error('cannot handle this');
      },
    });
    const [poison] = events(1, 'test.poisoned');
    await bus.publish([poison!]);

    const connection = await connect(AMQP_URL);
    try {
      const channel = await connection.createChannel();
      let dead: false | { content: Buffer } = false;
      await eventually(async () => {
        dead = await channel.get(topology.deadLetterQueue('poison'), { noAck: true });
        return dead !== false;
      }, 'the message was dead-lettered');
      assert.equal(attempts, 3);
      assert.deepEqual(JSON.parse((dead as unknown as { content: Buffer }).content.toString()), poison);
    } finally {
      await connection.close();
    }
  });

  it('when dead letters are listed and one is replayed, then the list leaves them there and the replay delivers that one', async () => {
    const { transport: bus } = transport('replay');
    let healthy = false;
    const handled: string[] = [];
    await bus.subscribe({
      group: group('replay'),
      types: ['test.replayed'],
      maxAttempts: 1,
      handle: async (envelope) => {
        if (!healthy) throw new Error('not yet');
        handled.push(envelope.id);
      },
    });
    const [first, second] = events(2, 'test.replayed');
    await bus.publish([first!, second!]);
    await eventually(async () => (await bus.deadLetterCount('replay')) === 2, 'both dead-lettered');

    const listed = await bus.deadLetters('replay', 10);
    assert.deepEqual(listed.map((dead) => dead.envelope.id).sort(), [first!.id, second!.id].sort());
    // The broker puts back what the listing's channel got unacknowledged after that channel closes, not before.
    await eventually(async () => (await bus.deadLetterCount('replay')) === 2, 'listing takes nothing away');

    healthy = true;
    assert.equal(await bus.replayDeadLetters('replay', [second!.id]), 1);
    await eventually(() => handled.length === 1, 'the replayed one handled');
    assert.deepEqual(handled, [second!.id]);
    await eventually(async () => (await bus.deadLetterCount('replay')) === 1, 'the other one left');
    const [left] = await bus.deadLetters('replay', 10);
    assert.equal(left?.envelope.id, first!.id);
  });

  it('when a group queue exists with another delivery limit, then subscribe rejects and others keep going', async () => {
    const { transport: bus } = transport('mismatch');
    const received: Envelope[] = [];
    const subscription = {
      group: group('mismatch'),
      types: ['test.happened'],
      handle: async (envelope: Envelope) => void received.push(envelope),
    };
    await bus.subscribe({ ...subscription, maxAttempts: 3 });
    await assert.rejects(bus.subscribe({ ...subscription, maxAttempts: 4 }), { code: 406 });
    await bus.publish(events(2));
    await eventually(() => received.length === 2, 'the first subscription still consumes');
    assert.ok(bus.connected);
  });

  it('when the broker is unreachable, then publish and check reject at once instead of buffering', async () => {
    const { transport: bus } = transport('unreachable', { url: 'amqp://guest:guest@127.0.0.1:1' });
    const started = Date.now();
    await assert.rejects(bus.publish(events(1)), BrokerUnavailableError);
    await assert.rejects(bus.publish(events(1)), BrokerUnavailableError);
    await assert.rejects(bus.check(), BrokerUnavailableError);
    assert.ok(Date.now() - started < 2000, 'rejected promptly');
  });

  it('when the broker drops the connection, then publish rejects until the transport reconnected by itself', async () => {
    const { transport: bus, lines } = transport('drop', {
      reconnect: { baseDelayMs: 1500, maxDelayMs: 1500 },
    });
    await bus.start();
    assert.equal(await dropConnections(`${namespace}:drop`), 1);
    await eventually(() => !bus.connected, 'the transport noticed');
    await assert.rejects(bus.publish(events(1)), BrokerUnavailableError);
    await assert.rejects(bus.check(), BrokerUnavailableError);
    await eventually(() => bus.connected, 'reconnected', 5000);
    await bus.publish(events(1));
    await bus.check();
    assert.equal(lines.filter((line) => line.msg === 'connected to RabbitMQ').length, 2);
  });

  describe('with the outbox and the inbox', () => {
    let database: TestDatabase;
    let db: Pool;

    before(async () => {
      database = await createTestDatabase('amqp');
      db = testPool(database.url, 12);
      await migrate(db, MESSAGING_MIGRATIONS);
      await db.query('CREATE TABLE applied (message_id text NOT NULL)');
    });

    after(async () => {
      await db.end();
      await database.drop();
    });

    it('when a message is larger than the broker takes, then the relay parks it and the next ones are delivered', async () => {
      const { transport: bus } = transport('oversized', { maxMessageBytes: 2000 });
      const received: Envelope[] = [];
      await bus.subscribe({
        group: group('oversized'),
        types: ['test.sized'],
        handle: async (envelope) => void received.push(envelope),
      });
      const outbox = new Outbox('souk/test');
      const [small, large, last] = await withTransaction(db, async (tx) => [
        await outbox.add(tx, 'test.sized', 'x'),
        await outbox.add(tx, 'test.sized', 'x'.repeat(5000)),
        await outbox.add(tx, 'test.sized', 'y'),
      ]);
      const relay = new OutboxRelay({ db, transport: bus, log: recordingLogger().log });
      assert.equal(await relay.relayOnce(), 2);
      await eventually(() => received.length === 2, 'the other two delivered');
      assert.deepEqual(
        received.map((e) => e.id),
        [small.id, last.id],
      );
      const { rows } = await db.query(
        'SELECT last_error FROM outbox WHERE parked_at IS NOT NULL AND id = $1',
        [large.id],
      );
      assert.match(rows[0]?.last_error ?? '', /more than the broker takes/);
      assert.equal(await bus.deadLetterCount('oversized'), 0);
      await db.query('TRUNCATE outbox');
    });

    it('when every connection is dropped during traffic, then all messages are applied exactly once', async () => {
      const { transport: publisher } = transport('traffic-publisher');
      const { transport: consumer, lines } = transport('traffic-consumer');
      let duplicates = 0;
      await consumer.subscribe({
        group: group('traffic'),
        types: ['test.happened'],
        handle: async (envelope) => {
          const applied = await consumeOnce(db, 'traffic', envelope, async (tx) => {
            await tx.query('INSERT INTO applied (message_id) VALUES ($1)', [envelope.id]);
            await new Promise((resolve) => setTimeout(resolve, 3));
          });
          if (!applied) duplicates += 1;
        },
      });
      const relay = new OutboxRelay({
        db,
        transport: publisher,
        log: recordingLogger().log,
        pollIntervalMs: 50,
        batchSize: 25,
        retry: { baseDelayMs: 20, maxDelayMs: 200 },
      });
      relay.start();
      try {
        // Events keep coming before, during and after the broker drops both connections.
        const outbox = new Outbox('souk/test');
        let total = 0;
        const produce = async (count: number) => {
          for (let i = 0; i < count; i += 5) {
            await withTransaction(db, async (tx) => {
              for (let j = 0; j < 5; j++) await outbox.add(tx, 'test.happened', { n: total++ });
            });
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        };
        await produce(50);
        let dropping = true;
        const dropped = dropConnections(`${namespace}:traffic-`).finally(() => (dropping = false));
        while (dropping) await produce(5);
        assert.equal(await dropped, 2);
        await produce(50);
        const counts = async () =>
          (
            await db.query(
              'SELECT count(*)::int AS n, count(DISTINCT message_id)::int AS distinct FROM applied',
            )
          ).rows[0] as { n: number; distinct: number };
        await eventually(async () => (await counts()).distinct === total, 'every message applied', 15_000);
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.deepEqual(await counts(), { n: total, distinct: total });
        const { rows } = await db.query('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL');
        assert.equal(rows[0].n, 0);
        assert.equal(lines.filter((line) => line.msg === 'connected to RabbitMQ').length, 2);
        assert.ok(duplicates >= 0);
      } finally {
        await relay.stop();
      }
    });
  });
});
