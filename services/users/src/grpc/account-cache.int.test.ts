// GetUser answers from memory in a running users instance, and forgets an account as soon as its row changes,
// whoever changed it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createTestDatabase, testEnvironment, type TestDatabase } from '@souk/chassis/testing';
import { buildUsers } from '../app.ts';
import { loadUsersProto } from './users.grpc.ts';

type Users = Awaited<ReturnType<typeof buildUsers>>;
interface Reply {
  name: string;
  disabled: boolean;
}
type GetUser = (
  request: { id: string },
  metadata: grpc.Metadata,
  callback: (error: grpc.ServiceError | null, reply?: Reply) => void,
) => void;

describe('GetUser account cache', () => {
  let database: TestDatabase;
  /** Two instances on one database, as in the fleet. */
  let fleet: Array<{ users: Users; client: grpc.Client }>;

  const startInstance = async () => {
    const users = await buildUsers({ env: { ...testEnvironment(database.url), SOUK__GRPC__PORT: '0' } });
    await users.start();
    const Client = loadUsersProto().souk.users.v1.Users;
    return { users, client: new Client(`127.0.0.1:${users.grpcPort}`, grpc.credentials.createInsecure()) };
  };

  before(async () => {
    database = await createTestDatabase('users_cache');
    fleet = [await startInstance(), await startInstance()];
  });

  after(async () => {
    for (const { users, client } of fleet) {
      client.close();
      await users.stop();
    }
    await database.drop();
  });

  const [first, second] = [0, 1] as const;
  const db = () => fleet[first]!.users.db;

  const getUser = (instance: 0 | 1, id: string) => {
    const { users, client } = fleet[instance]!;
    const metadata = new grpc.Metadata();
    metadata.set('x-souk-identity', users.identity.serviceCredential('orders'));
    return new Promise<Reply>((resolve, reject) =>
      (client as unknown as { getUser: GetUser }).getUser.call(client, { id }, metadata, (error, reply) =>
        error ? reject(error) : resolve(reply!),
      ),
    );
  };

  const register = async (email: string) => {
    const registered = await fleet[first]!.users.app.inject({
      method: 'POST',
      url: '/api/users',
      payload: { email, password: 'hopper-1906-cobol', name: 'Grace' },
    });
    return registered.json<{ id: string }>().id;
  };

  /** Polls for up to a second: a notification crosses from the writer's connection to the listeners'. */
  const within1s = async (condition: () => Promise<boolean>, message: string) => {
    const deadline = Date.now() + 1000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`not within 1 s: ${message}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('when an account was looked up, then a repeat lookup is answered from memory, without a query', async () => {
    const id = await register('grace@example.com');
    assert.equal((await getUser(first, id)).name, 'Grace');
    // A change nobody is told of shows whether the answer still comes from memory.
    await db().query('ALTER TABLE users DISABLE TRIGGER users_changed');
    try {
      await db().query(`UPDATE users SET name = 'Unannounced' WHERE id = $1`, [id]);
    } finally {
      await db().query('ALTER TABLE users ENABLE TRIGGER users_changed');
    }
    assert.equal((await getUser(first, id)).name, 'Grace');
    assert.equal((await getUser(second, id)).name, 'Unannounced', 'the other instance had not kept it');
  });

  it('when an account both instances keep is disabled in the database, then both say disabled within a second', async () => {
    const id = await register('ada@example.com');
    for (const instance of [first, second]) assert.equal((await getUser(instance, id)).disabled, false);
    await db().query('UPDATE users SET disabled = true WHERE id = $1', [id]);
    for (const instance of [first, second]) {
      await within1s(
        async () => (await getUser(instance, id)).disabled,
        `instance ${instance} says disabled`,
      );
    }
  });
});
