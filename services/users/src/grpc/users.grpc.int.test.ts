import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { createTestDatabase, testEnvironment, type TestDatabase } from '@souk/chassis/testing';
import { service as healthService } from 'grpc-health-check';
import { buildUsers } from '../app.ts';
import { USERS_GRPC_SERVICE, loadUsersProto } from './users.grpc.ts';

type Users = Awaited<ReturnType<typeof buildUsers>>;
type Unary<Request, Reply> = (
  request: Request,
  metadata: grpc.Metadata,
  callback: (error: grpc.ServiceError | null, reply?: Reply) => void,
) => void;

const REFLECTION_PROTO = createRequire(import.meta.url).resolve(
  '@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto',
);

describe('users gRPC server', () => {
  let database: TestDatabase;
  let users: Users;
  let address: string;

  before(async () => {
    database = await createTestDatabase('users');
    users = await buildUsers({ env: { ...testEnvironment(database.url), SOUK__GRPC__PORT: '0' } });
    await users.app.ready();
    address = `127.0.0.1:${users.grpcPort}`;
  });

  after(async () => {
    await users.stop();
    await database.drop();
  });

  const healthOf = async (service: string): Promise<string> => {
    const Health = grpc.makeClientConstructor(healthService, 'Health');
    const client = new Health(address, grpc.credentials.createInsecure());
    const check = (client as unknown as { check: Unary<{ service: string }, { status: string }> }).check;
    try {
      return await new Promise((resolve, reject) =>
        check.call(client, { service }, new grpc.Metadata(), (error, reply) =>
          error ? reject(error) : resolve(reply!.status),
        ),
      );
    } finally {
      client.close();
    }
  };

  const eventually = async (condition: () => Promise<boolean>) => {
    const deadline = Date.now() + 5000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('when a standard gRPC reflection client lists services, then the users API is among them', async () => {
    const proto = grpc.loadPackageDefinition(loadSync(REFLECTION_PROTO, { keepCase: true })) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
    };
    const client = new proto.grpc.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure());
    const stream = (
      client as unknown as { ServerReflectionInfo: () => grpc.ClientDuplexStream<unknown, unknown> }
    ).ServerReflectionInfo();
    const reply = new Promise<{ list_services_response: { service: { name: string }[] } }>(
      (resolve, reject) => {
        stream.once('data', resolve);
        stream.once('error', reject);
      },
    );
    stream.write({ list_services: '' });
    const names = (await reply).list_services_response.service.map((service) => service.name);
    stream.end();
    client.close();
    assert.ok(names.includes(USERS_GRPC_SERVICE), `listed: ${names.join(', ')}`);
  });

  it('when a disabled account is looked up with GetUser, then it says so; an enabled one says not', async () => {
    const registered = await users.app.inject({
      method: 'POST',
      url: '/api/users',
      payload: { email: 'grace@example.com', password: 'hopper-1906-cobol', name: 'Grace' },
    });
    const id = registered.json().id as string;
    const client = new (loadUsersProto().souk.users.v1.Users)(address, grpc.credentials.createInsecure());
    const getUser = (client as unknown as { getUser: Unary<{ id: string }, { disabled: boolean }> }).getUser;
    const metadata = new grpc.Metadata();
    metadata.set('x-souk-identity', users.identity.serviceCredential('orders'));
    const disabled = () =>
      new Promise<boolean>((resolve, reject) =>
        getUser.call(client, { id }, metadata, (error, reply) =>
          error ? reject(error) : resolve(reply!.disabled),
        ),
      );
    assert.equal(await disabled(), false);
    await users.db.query('UPDATE users SET disabled = true WHERE id = $1', [id]);
    assert.equal(await disabled(), true);
    client.close();
  });

  // Last: draining cannot be undone.
  it('when the service is ready, then health is SERVING; when it drains, then NOT_SERVING', async () => {
    await eventually(async () => (await healthOf('')) === 'SERVING');
    assert.equal(await healthOf(USERS_GRPC_SERVICE), 'SERVING');
    users.health.startDraining();
    await eventually(async () => (await healthOf(USERS_GRPC_SERVICE)) === 'NOT_SERVING');
    assert.equal(await healthOf(''), 'NOT_SERVING');
  });
});
