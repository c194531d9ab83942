import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { IDENTITY_HEADER, UpstreamUnavailableError, createIdentitySigner } from '@souk/chassis';
import { TEST_INTERNAL_SECRET } from '@souk/chassis/testing';
import { usersGrpcClient } from './users.client.ts';

/** A users gRPC server on port 0 that answers each GetUser from a script of outcomes, then a user. */
async function scriptedUsers(script: (grpc.status | 'hang')[]) {
  const definition = loadSync(fileURLToPath(import.meta.resolve('@souk/contracts/proto/users.proto')), {
    keepCase: true,
    defaults: true,
  });
  const proto = grpc.loadPackageDefinition(definition) as unknown as {
    souk: { users: { v1: { Users: grpc.ServiceClientConstructor } } };
  };
  const server = new grpc.Server();
  const seen: { credential: unknown }[] = [];
  server.addService(proto.souk.users.v1.Users.service, {
    getUser: (call: grpc.ServerUnaryCall<{ id: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      seen.push({ credential: call.metadata.get(IDENTITY_HEADER)[0] });
      const next = script.shift();
      if (next === 'hang') return;
      if (next !== undefined) callback({ code: next, details: 'scripted' });
      else
        callback(null, { id: call.request.id, email: 'a@b.c', name: 'A', role: 'customer', disabled: false });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { address: `127.0.0.1:${port}`, seen, close: () => server.forceShutdown() };
}

describe('the users gRPC client of orders', () => {
  const identity = createIdentitySigner(TEST_INTERNAL_SECRET);
  const servers: { close(): void }[] = [];
  const clients: { close(): void }[] = [];

  const clientOf = (address: string, deadlineMs = 1000) => {
    const client = usersGrpcClient({
      settings: () => ({ grpcUrl: address, deadlineMs, attempts: 3 }),
      address: () => address,
      identity,
    });
    clients.push(client);
    return client;
  };

  after(() => {
    for (const client of clients) client.close();
    for (const server of servers) server.close();
  });

  it('when users answers UNAVAILABLE twice, then the call is retried and gets the user, with a service credential', async () => {
    const users = await scriptedUsers([grpc.status.UNAVAILABLE, grpc.status.UNAVAILABLE]);
    servers.push(users);
    const id = randomUUID();
    assert.deepEqual(await clientOf(users.address).getUser(id), {
      id,
      email: 'a@b.c',
      name: 'A',
      role: 'customer',
      disabled: false,
    });
    assert.equal(users.seen.length, 3);
    assert.equal(identity.verify(users.seen[0]!.credential as string)?.kind, 'service');
  });

  it('when users hangs, then the call gives up at its deadline as a timeout', async () => {
    const users = await scriptedUsers(['hang']);
    servers.push(users);
    const started = Date.now();
    await assert.rejects(
      clientOf(users.address, 300).getUser(randomUUID()),
      (error) => error instanceof UpstreamUnavailableError && error.reason === 'timeout',
    );
    assert.ok(Date.now() - started < 1000);
  });

  it('when users does not know the id, then undefined, not an error', async () => {
    const users = await scriptedUsers([grpc.status.NOT_FOUND]);
    servers.push(users);
    assert.equal(await clientOf(users.address).getUser(randomUUID()), undefined);
  });
});
