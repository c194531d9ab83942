// The internal gRPC API (GetUser) for other services; callers present a service credential as metadata. The
// server also speaks the standard gRPC health protocol (SERVING while ready) and server reflection.
import { isUuid } from '@souk/kit';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { IDENTITY_HEADER, serveGrpcInSpan, type IdentitySigner, type Logger } from '@souk/chassis';
import { HealthImplementation } from 'grpc-health-check';
import type { Account } from '../data/user.repository.ts';

/** The fully qualified name the health service reports this API under, beside the server as a whole (''). */
export const USERS_GRPC_SERVICE = 'souk.users.v1.Users';

interface UsersProto {
  souk: { users: { v1: { Users: grpc.ServiceClientConstructor } } };
}

function loadUsersDefinition(): PackageDefinition {
  return loadSync(fileURLToPath(import.meta.resolve('@souk/contracts/proto/users.proto')), {
    keepCase: true,
    defaults: true,
  });
}

export function loadUsersProto(): UsersProto {
  return grpc.loadPackageDefinition(loadUsersDefinition()) as unknown as UsersProto;
}

/**
 * How often the health service's status follows the service's readiness (each look asks the database and the
 * bus); draining is followed at once, through `onDrain`.
 */
const HEALTH_POLL_MS = 5000;

export async function startUsersGrpc(options: {
  host: string;
  port: number;
  /** The account behind an id, when there is one. */
  findAccount: (id: string) => Promise<Account | undefined>;
  identity: IdentitySigner;
  log: Logger;
  /** The service's readiness (its dependencies answer and it is not draining). */
  ready: () => Promise<boolean>;
  /** Calls the listener when the service starts draining. */
  onDrain: (listener: () => void) => void;
}): Promise<{ port: number; close(): Promise<void> }> {
  const server = new grpc.Server();
  const definition = loadUsersDefinition();
  const health = new HealthImplementation({ '': 'NOT_SERVING', [USERS_GRPC_SERVICE]: 'NOT_SERVING' });
  health.addToServer(server);
  new ReflectionService(definition).addToServer(server);
  let closing = false;
  const setServing = (serving: boolean) => {
    for (const name of ['', USERS_GRPC_SERVICE]) health.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
  };
  const followReadiness = async () => {
    const ready = await options.ready().catch(() => false);
    if (!closing) setServing(ready);
  };
  const poll = setInterval(() => void followReadiness(), HEALTH_POLL_MS).unref();
  options.onDrain(() => setServing(false));

  server.addService(
    (grpc.loadPackageDefinition(definition) as unknown as UsersProto).souk.users.v1.Users.service,
    {
      getUser: (
        call: grpc.ServerUnaryCall<{ id: string }, unknown>,
        callback: grpc.sendUnaryData<Account>,
      ) => {
        // A SERVER span continuing the caller's traceparent, around the lookup and its query if it needs one.
        void serveGrpcInSpan(USERS_GRPC_SERVICE, 'GetUser', call.metadata, async (answered) => {
          const credential = call.metadata.get(IDENTITY_HEADER)[0];
          const caller = typeof credential === 'string' ? options.identity.verify(credential) : undefined;
          if (caller?.kind !== 'service') {
            answered(grpc.status.UNAUTHENTICATED);
            callback({ code: grpc.status.UNAUTHENTICATED, details: 'a service credential is required' });
            return;
          }
          const id = call.request.id;
          try {
            const account = isUuid(id) ? await options.findAccount(id) : undefined;
            if (account === undefined) {
              answered(grpc.status.NOT_FOUND);
              callback({ code: grpc.status.NOT_FOUND, details: 'no such user' });
              return;
            }
            answered(grpc.status.OK);
            callback(null, account);
          } catch (error) {
            options.log.error({ err: error }, 'GetUser failed');
            answered(grpc.status.INTERNAL);
            callback({ code: grpc.status.INTERNAL, details: 'internal error' });
          }
        });
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `${options.host}:${options.port}`,
      grpc.ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );
  await followReadiness();
  return {
    port,
    close: () => {
      closing = true;
      clearInterval(poll);
      setServing(false);
      return new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}
