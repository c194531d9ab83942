import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { migrate, withTransaction, type Pool } from '../db.ts';
import { countingCommits, createTestDatabase, testPool, type TestDatabase } from '../testing.ts';
import { MESSAGING_MIGRATIONS, Outbox, OutboxRelay, outboxStats, pruneSentOutbox } from './outbox.ts';
import { eventually, recordingLogger } from './test-helpers.ts';
import { UnpublishableMessageError, type Envelope, type MessageTransport } from './transport.ts';

/** A transport that records what it was asked to publish; `fail` and `gate` script its behaviour. */
class RecordingTransport implements Pick<MessageTransport, 'publish'> {
  readonly published: Envelope[] = [];
  readonly batches: Envelope[][] = [];
  calls = 0;
  failuresLeft = 0;
  gate: Promise<void> | undefined;

  async publish(envelopes: readonly Envelope[]): Promise<void> {
    this.calls += 1;
    await this.gate;
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw new Error('broker unavailable');
    }
    this.published.push(...envelopes);
    this.batches.push([...envelopes]);
  }
}

describe('outbox and relay', () => {
  let database: TestDatabase;
  let db: Pool;
  const outbox = new Outbox('souk/test');
  const relays: OutboxRelay[] = [];
  const { log } = recordingLogger();

  const relay = (
    transport: RecordingTransport,
    options: { pollIntervalMs?: number; batchSize?: number } = {},
  ) => {
    const created = new OutboxRelay({
      db,
      transport,
      log,
      pollIntervalMs: options.pollIntervalMs ?? 50,
      batchSize: options.batchSize,
      retry: { baseDelayMs: 10, maxDelayMs: 50 },
    });
    relays.push(created);
    created.start();
    return created;
  };
  const addCommitted = (count: number, subject = 's') =>
    withTransaction(db, async (tx) => {
      const added: Envelope[] = [];
      for (let i = 0; i < count; i++) added.push(await outbox.add(tx, 'test.happened', { i }, { subject }));
      return added;
    });
  const unpublished = async () =>
    Number((await db.query('SELECT count(*) FROM outbox WHERE published_at IS NULL')).rows[0].count);

  before(async () => {
    database = await createTestDatabase('outbox');
    db = testPool(database.url, 6);
    await migrate(db, MESSAGING_MIGRATIONS);
  });

  beforeEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    await db.query('TRUNCATE outbox');
  });

  after(async () => {
    await Promise.all(relays.map((r) => r.stop()));
    await db.end();
    await database.drop();
  });

  it('when the messaging migrations run twice, then the second run applies nothing', async () => {
    assert.deepEqual(await migrate(db, MESSAGING_MIGRATIONS), []);
  });

  it('when an event is added, then the envelope carries the source, type, data and subject', async () => {
    const [envelope] = await addCommitted(1, 'order-1');
    assert.equal(envelope!.source, 'souk/test');
    assert.equal(envelope!.type, 'test.happened');
    assert.equal(envelope!.subject, 'order-1');
    const { rows } = await db.query('SELECT id, type, envelope FROM outbox');
    assert.deepEqual(rows, [{ id: envelope!.id, type: 'test.happened', envelope }]);
  });

  it('when the transaction rolls back, then its event is never published', async () => {
    const transport = new RecordingTransport();
    let rolledBack: Envelope | undefined;
    await assert.rejects(
      withTransaction(db, async (tx) => {
        rolledBack = await outbox.add(tx, 'test.happened', { doomed: true });
        throw new Error('the state change failed');
      }),
    );
    relay(transport);
    const [committed] = await addCommitted(1);
    await eventually(() => transport.published.length > 0, 'the committed event is published');
    assert.deepEqual(
      transport.published.map((e) => e.id),
      [committed!.id],
    );
    assert.notEqual(committed!.id, rolledBack!.id);
  });

  it('when two relays run, then each committed event is published exactly once, in order per relay batch', async () => {
    const transport = new RecordingTransport();
    relay(transport, { batchSize: 7 });
    relay(transport, { batchSize: 7 });
    const added: Envelope[] = [];
    for (let i = 0; i < 10; i++) added.push(...(await addCommitted(6)));
    await eventually(async () => (await unpublished()) === 0, 'everything is published');
    const ids = transport.published.map((e) => e.id);
    assert.equal(ids.length, added.length);
    assert.deepEqual(new Set(ids), new Set(added.map((e) => e.id)));
    const order = new Map(added.map((e, index) => [e.id, index]));
    for (const batch of transport.batches) {
      const indexes = batch.map((e) => order.get(e.id)!);
      assert.deepEqual(
        indexes,
        indexes.toSorted((a, b) => a - b),
      );
    }
  });

  it('when the transport fails a few times, then the batch is published after recovery in order', async () => {
    const transport = new RecordingTransport();
    transport.failuresLeft = 3;
    const added = await addCommitted(5);
    relay(transport);
    await eventually(async () => (await unpublished()) === 0, 'published after the transport recovered');
    assert.deepEqual(
      transport.published.map((e) => e.id),
      added.map((e) => e.id),
    );
    const { rows } = await db.query('SELECT last_error, parked_at FROM outbox ORDER BY position LIMIT 1');
    assert.deepEqual(rows, [{ last_error: 'broker unavailable', parked_at: null }]);
  });

  it('when the publish has not resolved yet, then the rows stay unpublished until it does', async () => {
    const transport = new RecordingTransport();
    const gate = Promise.withResolvers<void>();
    transport.gate = gate.promise;
    await addCommitted(3);
    relay(transport);
    await eventually(() => transport.calls === 1, 'the relay is publishing');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await unpublished(), 3);
    gate.resolve();
    await eventually(async () => (await unpublished()) === 0, 'marked once the publish resolved');
    assert.equal(transport.published.length, 3);
  });

  it('when batches follow each other, then each claim marks the batch before it: one commit a batch', async () => {
    const transport = new RecordingTransport();
    const counted = countingCommits(db);
    const busy = new OutboxRelay({
      db: counted.pool,
      transport,
      log,
      pollIntervalMs: 60_000,
      markWithinMs: 1_000,
    });
    relays.push(busy);
    busy.start();
    for (let batch = 1; batch <= 3; batch++) {
      await addCommitted(2);
      await eventually(() => transport.batches.length === batch, `batch ${batch} is published`);
    }
    const commits = counted.commits;
    assert.equal(await unpublished(), 2, 'the last batch waits for a claim to mark it');
    await eventually(async () => (await unpublished()) === 0, 'marked on its own when no claim came', 3000);
    assert.equal(counted.commits - commits, 1, 'the lone mark');
    assert.equal(
      commits,
      4,
      'the first claim, which found nothing, then one claim a batch, marking the one before',
    );
  });

  it('when the relay publishes, then it holds no transaction: another session can lock the rows meanwhile', async () => {
    const observed: string[] = [];
    const transport: Pick<MessageTransport, 'publish'> = {
      async publish(envelopes) {
        const ids = envelopes.map((e) => e.id);
        const locked = await withTransaction(db, async (tx) => {
          const { rows } = await tx.query('SELECT id FROM outbox WHERE id = ANY($1) FOR UPDATE NOWAIT', [
            ids,
          ]);
          return rows.length;
        }).catch((error: unknown) => (error as Error).message);
        observed.push(String(locked));
        const idle = await db.query(
          `SELECT count(*)::int AS count FROM pg_stat_activity
            WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
        );
        observed.push(`idle in transaction: ${idle.rows[0].count}`);
      },
    };
    await addCommitted(3);
    const once = new OutboxRelay({ db, transport, log });
    assert.equal(await once.relayOnce(), 3);
    assert.deepEqual(observed, ['3', 'idle in transaction: 0']);
  });

  it('when the transport refuses one event for good, then it is parked with its error and the next ones go out', async () => {
    const transport = new RecordingTransport();
    const refusing: Pick<MessageTransport, 'publish'> = {
      async publish(envelopes) {
        if (envelopes.some((e) => (e.data as { i: number }).i === 1))
          throw new UnpublishableMessageError('the bus refused it');
        await transport.publish(envelopes);
      },
    };
    const added = await addCommitted(4);
    const once = new OutboxRelay({ db, transport: refusing, log });
    assert.equal(await once.relayOnce(), 3);
    assert.deepEqual(
      transport.published.map((e) => e.id),
      [added[0]!.id, added[2]!.id, added[3]!.id],
    );
    const { rows } = await db.query(
      'SELECT id, last_error, parked_at IS NOT NULL AS parked FROM outbox WHERE published_at IS NULL',
    );
    assert.deepEqual(rows, [{ id: added[1]!.id, last_error: 'the bus refused it', parked: true }]);
    assert.deepEqual(await outboxStats(db), { unsent: 0, lagSeconds: 0, parked: 1 });
    assert.match((await once.degradation()) ?? '', /1 event\(s\) parked/);
    assert.equal(await once.relayOnce(), 0);
  });

  it('when a publish fails for a reason a retry may fix, then nothing is parked and the relay says it stalls', async () => {
    const transport = new RecordingTransport();
    transport.failuresLeft = 1_000;
    await addCommitted(2);
    const stalled = new OutboxRelay({ db, transport, log, stalledAfterMs: 0, degradedAfterFailures: 1 });
    await assert.rejects(stalled.relayOnce(), /broker unavailable/);
    const stats = await outboxStats(db);
    assert.equal(stats.unsent, 2);
    assert.equal(stats.parked, 0);
    assert.match((await stalled.degradation()) ?? '', /oldest unsent event/);
  });

  it('when sent rows are pruned, then only those sent before the cut-off go; unsent and parked ones stay', async () => {
    const [old, recent, unsent, parked] = await addCommitted(4);
    await db.query(`UPDATE outbox SET published_at = now() - interval '2 hours' WHERE id = $1`, [old!.id]);
    await db.query(`UPDATE outbox SET published_at = now() WHERE id = $1`, [recent!.id]);
    await db.query(`UPDATE outbox SET parked_at = now() - interval '2 hours' WHERE id = $1`, [parked!.id]);
    assert.equal(await pruneSentOutbox(db, new Date(Date.now() - 3_600_000)), 1);
    const { rows } = await db.query('SELECT id FROM outbox ORDER BY position');
    assert.deepEqual(
      rows.map((row) => row.id),
      [recent!.id, unsent!.id, parked!.id],
    );
  });

  it('when an event commits while the relay idles, then NOTIFY wakes it long before the next poll', async () => {
    const transport = new RecordingTransport();
    relay(transport, { pollIntervalMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await addCommitted(1);
    await eventually(() => transport.published.length === 1, 'published on notification', 2000);
    assert.ok(Date.now() - started < 2000);
  });
});
