import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import pino from 'pino';
import { createPool, migrate, withTransaction, type Pool } from '../db.ts';
import { UpstreamUnavailableError } from '../resilience.ts';
import { countingCommits, createTestDatabase, type TestDatabase } from '../testing.ts';
import {
  StepInProgress,
  StepRejected,
  SAGA_MIGRATIONS,
  type SagaDefinition,
  type StepContext,
} from './saga.ts';
import { SagaRunner, type SagaRunnerOptions } from './saga-runner.ts';
import { pruneFinishedSagas } from './store.ts';

interface LedgerState {
  entries: number;
}

/**
 * A participant that does its effect once per call, keyed by idempotency key, and honours the abort signal as
 * a remote call would (an aborted call has no effect): counting per key shows duplicates and skipped steps.
 */
class Ledger {
  effects = new Map<string, number>();
  calls: { key: string; attempt: number }[] = [];
  undone: string[] = [];
  readonly behaviour: { ms: number; failures?: number; alwaysFail?: boolean; onCall?: () => void };
  constructor(behaviour: Ledger['behaviour']) {
    this.behaviour = behaviour;
  }

  async book({ idempotencyKey, attempt, signal }: StepContext<LedgerState>): Promise<void> {
    this.calls.push({ key: idempotencyKey, attempt });
    this.behaviour.onCall?.();
    const callsForKey = this.calls.filter((call) => call.key === idempotencyKey).length;
    await delay(this.behaviour.ms, undefined, { signal });
    if (this.behaviour.alwaysFail || callsForKey <= (this.behaviour.failures ?? 0))
      throw new Error('ledger unavailable');
    this.effects.set(idempotencyKey, (this.effects.get(idempotencyKey) ?? 0) + 1);
  }

  /** Each of the saga's steps had its effect exactly once. */
  assertEachStepOnce(sagaId: string) {
    assert.deepEqual(
      Object.fromEntries(this.effects),
      Object.fromEntries(['a', 'b', 'c'].map((name, index) => [`${sagaId}:${index}:${name}`, 1])),
    );
  }
}

interface TripState {
  trip: string;
  outcome?: string;
}

describe('saga runner', () => {
  let database: TestDatabase;
  let db: Pool;
  const log = pino({ level: 'silent' });
  let journal: string[] = [];
  let failHotel: 'reject' | 'crash' | 'no' = 'no';

  const trip = (): SagaDefinition<TripState> => ({
    type: 'trip',
    steps: [
      {
        name: 'flight',
        run: async ({ idempotencyKey }) =>
          void journal.push(`book flight ${idempotencyKey.split(':').at(-1)}`),
        compensate: async () => void journal.push('cancel flight'),
      },
      {
        name: 'hotel',
        attempts: 3,
        run: async () => {
          if (failHotel === 'reject') throw new StepRejected('no rooms');
          if (failHotel === 'crash') throw new Error('hotel down');
          journal.push('book hotel');
          return { outcome: 'hotel booked' };
        },
        compensate: async () => void journal.push('cancel hotel'),
      },
      { name: 'car', run: async () => void journal.push('rent car') },
    ],
    onCompleted: async (tx, id, state) => {
      await tx.query(`INSERT INTO trip_outcomes VALUES ($1, $2)`, [id, `completed: ${state.outcome}`]);
    },
    onCompensated: async (tx, id, _state, reason) => {
      await tx.query(`INSERT INTO trip_outcomes VALUES ($1, $2)`, [id, `compensated: ${reason}`]);
    },
  });

  const ledgerSaga = (ledger: Ledger, attempts = 3): SagaDefinition<LedgerState> => ({
    type: 'ledger',
    steps: ['a', 'b', 'c'].map((name) => ({
      name,
      attempts,
      run: (context) => ledger.book(context),
      compensate: async ({ idempotencyKey }) => void ledger.undone.push(idempotencyKey),
    })),
    onCompleted: async (tx, id) => {
      await tx.query(`INSERT INTO trip_outcomes VALUES ($1, 'completed')`, [id]);
    },
    onCompensated: async (tx, id, _state, reason) => {
      await tx.query(`INSERT INTO trip_outcomes VALUES ($1, $2)`, [id, `compensated: ${reason}`]);
    },
  });
  const ledgerRunner = (ledger: Ledger, options: Partial<SagaRunnerOptions> = {}, attempts = 3) => {
    const created = new SagaRunner({
      db,
      log,
      retryBaseMs: 1,
      retryMaxMs: 5,
      scanIntervalMs: 50,
      leaseMs: 1000,
      defaultStepTimeoutMs: 800,
      ...options,
    });
    created.register(ledgerSaga(ledger, attempts));
    return created;
  };
  const beginLedger = async (r: SagaRunner) => {
    const id = randomUUID();
    await r.begin(db, 'ledger', id, { entries: 0 });
    return id;
  };
  const sagaRow = async (id: string) =>
    (
      await db.query<{
        status: string;
        next_step: number;
        lease_owner: string | null;
        lease_until: Date | null;
      }>('SELECT status, next_step, lease_owner, lease_until FROM saga_instances WHERE id = $1', [id])
    ).rows[0]!;
  const stepLog = async (id: string) =>
    (
      await db.query<{ name: string; direction: string; status: string; attempts: number }>(
        'SELECT name, direction, status, attempts FROM saga_steps WHERE saga_id = $1 ORDER BY step_index, direction',
        [id],
      )
    ).rows;
  const settled = async (id: string, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while ((await outcome(id)) === undefined && Date.now() < deadline) await delay(20);
    return outcome(id);
  };

  const runner = () => {
    const created = new SagaRunner({
      db,
      log,
      retryBaseMs: 1,
      scanIntervalMs: 50,
      leaseMs: 1000,
      defaultStepTimeoutMs: 800,
    });
    created.register(trip());
    return created;
  };
  const begin = async (r: SagaRunner) => {
    const id = randomUUID();
    await r.begin(db, 'trip', id, { trip: 'Marrakesh' });
    return id;
  };
  const outcome = async (id: string) =>
    (await db.query<{ outcome: string }>('SELECT outcome FROM trip_outcomes WHERE id = $1', [id])).rows[0]
      ?.outcome;

  before(async () => {
    database = await createTestDatabase('sagas');
    db = createPool(database.url);
    await migrate(db, SAGA_MIGRATIONS);
    await db.query('CREATE TABLE trip_outcomes (id uuid PRIMARY KEY, outcome text NOT NULL)');
  });

  after(async () => {
    await db.end();
    await database.drop();
  });

  it('when every step succeeds, then the saga completes with the merged state', async () => {
    journal = [];
    failHotel = 'no';
    const r = runner();
    const id = await begin(r);
    await r.run(id);
    assert.deepEqual(journal, ['book flight flight', 'book hotel', 'rent car']);
    assert.equal(await outcome(id), 'completed: hotel booked');
  });

  describe('when a participant is unavailable or still busy with the same key', () => {
    /** A saga whose one step fails `failures` times with `failure`, then succeeds; it has 2 attempts. */
    const flaky = (failures: number, failure: () => Error): SagaDefinition<TripState> => {
      let calls = 0;
      return {
        type: 'flaky',
        steps: [
          {
            name: 'charge',
            attempts: 2,
            run: async () => {
              calls += 1;
              if (calls <= failures) throw failure();
            },
          },
        ],
        onCompleted: async (tx, id) => {
          await tx.query(`INSERT INTO trip_outcomes VALUES ($1, 'completed')`, [id]);
        },
        onCompensated: async (tx, id, _state, reason) => {
          await tx.query(`INSERT INTO trip_outcomes VALUES ($1, $2)`, [id, `compensated: ${reason}`]);
        },
      };
    };
    const runFlaky = async (definition: SagaDefinition<TripState>, unreachedPatienceMs: number) => {
      const r = new SagaRunner({
        db,
        log,
        retryBaseMs: 1,
        retryMaxMs: 5,
        leaseMs: 1000,
        defaultStepTimeoutMs: 800,
        unreachedPatienceMs,
      });
      r.register(definition);
      const id = randomUUID();
      await r.begin(db, 'flaky', id, { trip: 'Fes' });
      await r.run(id);
      return outcome(id);
    };

    for (const [what, failure] of [
      ['its breaker is open', () => new UpstreamUnavailableError('payments', 'circuit-open')],
      ['it refuses connections', () => new UpstreamUnavailableError('payments', 'unreachable')],
      ['it is still working on the key', () => new StepInProgress('payments is still working on it')],
    ] as const) {
      it(`and ${what} for longer than the attempts last, then the step waits for it and the saga completes`, async () => {
        assert.equal(await runFlaky(flaky(6, failure), 10_000), 'completed');
      });
    }

    it('and no patience is configured, then those failures count as attempts and the saga compensates', async () => {
      const reason = await runFlaky(
        flaky(6, () => new UpstreamUnavailableError('payments', 'circuit-open')),
        0,
      );
      assert.match(reason ?? '', /^compensated: charge failed after 2 attempts/);
    });

    it('and the call timed out (it may have acted), then it counts as an attempt', async () => {
      const reason = await runFlaky(
        flaky(6, () => new UpstreamUnavailableError('payments', 'timeout')),
        10_000,
      );
      assert.match(reason ?? '', /^compensated: charge failed after 2 attempts/);
    });
  });

  it('when a step is rejected, then the earlier steps are compensated in reverse and the rejected one is not', async () => {
    journal = [];
    failHotel = 'reject';
    const r = runner();
    const id = await begin(r);
    await r.run(id);
    assert.deepEqual(journal, ['book flight flight', 'cancel flight']);
    assert.equal(await outcome(id), 'compensated: no rooms');
  });

  it('when a step keeps failing, then it is retried, counted as in doubt, and compensated with the others', async () => {
    journal = [];
    failHotel = 'crash';
    const r = runner();
    const id = await begin(r);
    await r.run(id);
    assert.deepEqual(journal, ['book flight flight', 'cancel hotel', 'cancel flight']);
    assert.match((await outcome(id))!, /hotel failed after 3 attempts/);
    const { rows } = await db.query(
      'SELECT status, attempts FROM saga_steps WHERE saga_id = $1 AND name = $2 AND direction = $3',
      [id, 'hotel', 'forward'],
    );
    assert.deepEqual(rows, [{ status: 'IN_DOUBT', attempts: 3 }]);
  });

  it('when the runner that owned a saga died, then another one resumes it after the lease and finishes it', async () => {
    journal = [];
    failHotel = 'no';
    const first = runner();
    const id = await begin(first);
    // The first runner took the lease and did one step, then vanished without a word.
    await db.query(
      `UPDATE saga_instances SET lease_owner = 'dead', lease_until = now() + interval '200 milliseconds', next_step = 1 WHERE id = $1`,
      [id],
    );
    const second = runner();
    second.start();
    const deadline = Date.now() + 5000;
    while ((await outcome(id)) === undefined && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await second.stop();
    assert.equal(await outcome(id), 'completed: hotel booked');
    assert.deepEqual(journal, ['book hotel', 'rent car']);
  });

  it('when two runners race for one saga, then each step runs once', async () => {
    journal = [];
    failHotel = 'no';
    const [a, b] = [runner(), runner()];
    const id = await begin(a);
    await Promise.all([a.run(id), b.run(id), a.run(id)]);
    assert.deepEqual(journal, ['book flight flight', 'book hotel', 'rent car']);
  });

  it('when a runner is stopped mid-step, then the saga stays RUNNING at that step, unleased, and the next runner completes it with each effect once', async () => {
    let started: () => void = () => {};
    const firstCall = new Promise<void>((resolve) => (started = resolve));
    const ledger = new Ledger({ ms: 300, onCall: () => started() });
    const a = ledgerRunner(ledger);
    const id = await beginLedger(a);
    const driving = a.run(id);
    await firstCall;
    await a.stop();
    await driving;

    const handedOver = await sagaRow(id);
    assert.deepEqual(handedOver, { status: 'RUNNING', next_step: 0, lease_owner: null, lease_until: null });
    assert.deepEqual(await stepLog(id), [
      { name: 'a', direction: 'forward', status: 'STARTED', attempts: 1 },
    ]);
    assert.equal(await outcome(id), undefined, 'neither completed nor compensated');

    const b = ledgerRunner(ledger);
    b.start();
    assert.equal(await settled(id), 'completed');
    await b.stop();
    ledger.assertEachStepOnce(id);
    assert.deepEqual(ledger.undone, [], 'nothing compensated');
  });

  it('when steps with retries last longer than the lease and two runners compete, then the lease is renewed and each step has its effect once, none skipped', async () => {
    // Each attempt fits its timeout (500 ms < lease 600 ms), but each step needs three attempts (~750 ms).
    const ledger = new Ledger({ ms: 250, failures: 2 });
    const options = { leaseMs: 600, defaultStepTimeoutMs: 500 };
    const [a, b] = [ledgerRunner(ledger, options, 5), ledgerRunner(ledger, options, 5)];
    const id = await beginLedger(a);
    a.start();
    b.start();
    const finished = await settled(id);
    await Promise.all([a.stop(), b.stop()]);
    assert.equal(finished, 'completed');
    ledger.assertEachStepOnce(id);
    assert.equal(ledger.calls.length, 9, 'three attempts per step, by one runner at a time');
  });

  it('when another runner took the lease mid-step, then the first aborts the step and changes nothing', async () => {
    let started: () => void = () => {};
    const firstCall = new Promise<void>((resolve) => (started = resolve));
    const ledger = new Ledger({ ms: 700, onCall: () => started() });
    const a = ledgerRunner(ledger);
    const id = await beginLedger(a);
    const driving = a.run(id);
    await firstCall;
    await db.query(
      `UPDATE saga_instances SET lease_owner = 'other', lease_until = now() + interval '1 minute' WHERE id = $1`,
      [id],
    );
    await driving;
    assert.deepEqual(await sagaRow(id), {
      ...(await sagaRow(id)),
      status: 'RUNNING',
      next_step: 0,
      lease_owner: 'other',
    });
    assert.deepEqual(await stepLog(id), [
      { name: 'a', direction: 'forward', status: 'STARTED', attempts: 1 },
    ]);
    assert.equal(ledger.effects.size, 0, 'the step was aborted when the renewal found the lease lost');
  });

  const crashedAt = async (r: SagaRunner, step: string, index: number, attempts: number) => {
    const id = await beginLedger(r);
    // A runner started attempt number `attempts` of the step, then was killed with -9.
    await db.query(
      `UPDATE saga_instances SET next_step = $2, lease_owner = 'dead', lease_until = now() - interval '1 second'
       WHERE id = $1`,
      [id, index],
    );
    await db.query(
      `INSERT INTO saga_steps (saga_id, step_index, name, direction, status, attempts)
       VALUES ($1, $2, $3, 'forward', 'STARTED', $4)`,
      [id, index, step, attempts],
    );
    return id;
  };

  it('when a step was cut short by a crash, then the next runner retries it forward with the same key, counting on', async () => {
    const ledger = new Ledger({ ms: 1 });
    const r = ledgerRunner(ledger);
    const id = await crashedAt(r, 'b', 1, 2);
    r.start();
    assert.equal(await settled(id), 'completed');
    await r.stop();
    assert.deepEqual(ledger.calls, [
      { key: `${id}:1:b`, attempt: 3 },
      { key: `${id}:2:c`, attempt: 1 },
    ]);
    assert.deepEqual(ledger.undone, []);
    assert.deepEqual(
      (await stepLog(id)).map((s) => [s.name, s.status, s.attempts]),
      [
        ['b', 'SUCCEEDED', 3],
        ['c', 'SUCCEEDED', 1],
      ],
    );
  });

  it('when crashes already spent a step’s attempts, then the next runner compensates instead of retrying again', async () => {
    const ledger = new Ledger({ ms: 1 });
    const r = ledgerRunner(ledger);
    const id = await crashedAt(r, 'b', 1, 3);
    r.start();
    assert.match((await settled(id))!, /^compensated: b failed after 3 attempts/);
    await r.stop();
    assert.deepEqual(ledger.calls, [], 'no fourth attempt');
    assert.deepEqual(ledger.undone, [`${id}:1:b:undo`, `${id}:0:a:undo`]);
  });

  it('when a step is retried many times, then no abort listener is left on the runner’s stop signal', async () => {
    const ledger = new Ledger({ ms: 1, alwaysFail: true });
    const r = ledgerRunner(ledger, {}, 25);
    const id = await beginLedger(r);
    await r.run(id);
    assert.match((await outcome(id))!, /a failed after 25 attempts/);
    assert.equal(getEventListeners(r.stopSignal, 'abort').length, 0);
  });

  it('when finished sagas are pruned, then those ended before the cut-off go with their steps, and the rest stay', async () => {
    const ledger = new Ledger({ ms: 1 });
    const r = ledgerRunner(ledger);
    const ids = { oldCompleted: '', oldCompensated: '', oldRunning: '', recentCompleted: '' };
    for (const key of Object.keys(ids) as (keyof typeof ids)[]) ids[key] = await beginLedger(r);
    await r.run(ids.oldCompleted);
    await r.run(ids.recentCompleted);
    await db.query(`UPDATE saga_instances SET status = 'COMPENSATED' WHERE id = $1`, [ids.oldCompensated]);
    await db.query(
      `UPDATE saga_instances SET updated_at = now() - interval '2 days' WHERE id = ANY($1::uuid[])`,
      [[ids.oldCompleted, ids.oldCompensated, ids.oldRunning]],
    );
    const pruned = await pruneFinishedSagas(db, new Date(Date.now() - 24 * 3600_000));
    const { rows } = await db.query<{ id: string }>(
      'SELECT id FROM saga_instances WHERE id = ANY($1::uuid[]) ORDER BY id',
      [Object.values(ids)],
    );
    assert.ok(pruned >= 2);
    assert.deepEqual(rows.map((row) => row.id).sort(), [ids.oldRunning, ids.recentCompleted].sort());
    assert.deepEqual(await stepLog(ids.oldCompleted), []);
    assert.equal((await stepLog(ids.recentCompleted)).length, 3);
  });

  describe("when a saga is begun held, in its creator's transaction", () => {
    it('then it completes with one commit per step, each recorded as started before it ran', async () => {
      journal = [];
      failHotel = 'no';
      const counted = countingCommits(db);
      const r = new SagaRunner({ db: counted.pool, log, retryBaseMs: 1, defaultStepTimeoutMs: 800 });
      r.register(trip());
      const id = randomUUID();
      const saga = await withTransaction(counted.pool, (tx) =>
        r.beginHeld(tx, 'trip', id, { trip: 'Tangier' }),
      );
      assert.equal(counted.commits, 1, "the creator's transaction");
      assert.deepEqual(await stepLog(id), [
        { name: 'flight', direction: 'forward', status: 'STARTED', attempts: 1 },
      ]);
      await saga.run();
      assert.equal(await outcome(id), 'completed: hotel booked');
      assert.equal(counted.commits - 1, 3, 'one commit for each of the three steps, the last one ending it');
      assert.deepEqual(
        (await stepLog(id)).map(({ name, status, attempts }) => `${name} ${status} ${attempts}`),
        ['flight SUCCEEDED 1', 'hotel SUCCEEDED 1', 'car SUCCEEDED 1'],
      );
      assert.equal((await sagaRow(id)).lease_owner, null);
    });

    it('and its creator dies before running it, then another runner resumes it after the lease, counting the attempt', async () => {
      journal = [];
      failHotel = 'no';
      const dead = runner();
      const id = randomUUID();
      await withTransaction(db, (tx) => dead.beginHeld(tx, 'trip', id, { trip: 'Agadir' }));
      const heir = runner();
      heir.start();
      try {
        assert.equal(await settled(id), 'completed: hotel booked');
      } finally {
        await heir.stop();
      }
      assert.deepEqual(journal, ['book flight flight', 'book hotel', 'rent car']);
      assert.equal((await stepLog(id))[0]!.attempts, 2);
    });
  });
});
