// The internal gRPC API (GetUser) for other services; callers present a service credential as metadata.
import { isUuid } from '@souk/kit';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { IDENTITY_HEADER, type IdentitySigner, type Logger } from '@souk/chassis';
import type { UserRepository } from '../data/user.repository.ts';

interface UsersProto {
  souk: { users: { v1: { Users: grpc.ServiceClientConstructor } } };
}

export function loadUsersProto(): UsersProto {
  const definition = loadSync(fileURLToPath(import.meta.resolve('@souk/contracts/proto/users.proto')), {
    keepCase: true,
    defaults: true,
  });
  return grpc.loadPackageDefinition(definition) as unknown as UsersProto;
}

export async function startUsersGrpc(options: {
  host: string;
  port: number;
  users: UserRepository;
  identity: IdentitySigner;
  log: Logger;
}): Promise<{ port: number; close(): Promise<void> }> {
  const server = new grpc.Server();
  server.addService(loadUsersProto().souk.users.v1.Users.service, {
    getUser: (
      call: grpc.ServerUnaryCall<{ id: string }, unknown>,
      callback: grpc.sendUnaryData<{ id: string; email: string; name: string; role: string }>,
    ) => {
      const credential = call.metadata.get(IDENTITY_HEADER)[0];
      const caller = typeof credential === 'string' ? options.identity.verify(credential) : undefined;
      if (caller?.kind !== 'service') {
        callback({ code: grpc.status.UNAUTHENTICATED, details: 'a service credential is required' });
        return;
      }
      const id = call.request.id;
      const found = isUuid(id) ? options.users.findById(id) : Promise.resolve(undefined);
      found.then(
        (user) =>
          user === undefined
            ? callback({ code: grpc.status.NOT_FOUND, details: 'no such user' })
            : callback(null, { id: user.id, email: user.email, name: user.name, role: user.role }),
        (error: unknown) => {
          options.log.error({ err: error }, 'GetUser failed');
          callback({ code: grpc.status.INTERNAL, details: 'internal error' });
        },
      );
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `${options.host}:${options.port}`,
      grpc.ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );
  return {
    port,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
