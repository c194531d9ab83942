import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createPool, migrate, type Pool } from '../db.ts';
import { createTestDatabase, type TestDatabase } from '../testing.ts';
import { StepRejected, SAGA_MIGRATIONS, type SagaDefinition } from './saga.ts';
import { SagaRunner } from './saga-runner.ts';

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
});
