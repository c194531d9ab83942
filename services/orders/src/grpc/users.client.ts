// Orders' view of the users service: GetUser over gRPC with a service credential, a deadline per call, and
// retries of UNAVAILABLE by gRPC's own retry policy; a users outage surfaces as UpstreamUnavailableError (503).
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import {
  IDENTITY_HEADER,
  UpstreamUnavailableError,
  traceGrpcCall,
  type IdentitySigner,
  type Registry,
} from '@souk/chassis';

export interface UserAccount {
  id: string;
  role: string;
  disabled: boolean;
}

export interface UsersDirectory {
  /** The account, or undefined when users has none with this id; throws UpstreamUnavailableError in an outage. */
  getUser(id: string): Promise<UserAccount | undefined>;
  close(): void;
}

export interface UsersGrpcSettings {
  grpcUrl: string;
  deadlineMs: number;
  attempts: number;
}

/**
 * Where users' gRPC server is: an instance the registry knows with a gRPC address (kept while it stays
 * registered, so the channel is not rebuilt per call), else the configured address (the local profile).
 */
export function usersGrpcAddress(registry: Registry, settings: () => UsersGrpcSettings): () => string {
  let chosen: string | undefined;
  return () => {
    const known = registry
      .instances('users')
      .flatMap((instance) => (instance.grpcUrl === undefined ? [] : [instance.grpcUrl]));
    if (known.length === 0) return settings().grpcUrl;
    if (chosen === undefined || !known.includes(chosen))
      chosen = known[Math.floor(Math.random() * known.length)]!;
    return chosen;
  };
}

type GetUser = (
  request: { id: string },
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, reply?: UserAccount) => void,
) => void;

interface UsersProto {
  souk: { users: { v1: { Users: grpc.ServiceClientConstructor } } };
}

const Users = (
  grpc.loadPackageDefinition(
    loadSync(fileURLToPath(import.meta.resolve('@souk/contracts/proto/users.proto')), {
      keepCase: true,
      defaults: true,
    }),
  ) as unknown as UsersProto
).souk.users.v1.Users;

/** gRPC retries UNAVAILABLE itself, with backoff, all within the call's deadline. */
const retryPolicy = (attempts: number) =>
  JSON.stringify({
    methodConfig: [
      {
        name: [{ service: 'souk.users.v1.Users' }],
        retryPolicy: {
          maxAttempts: Math.max(2, attempts),
          initialBackoff: '0.05s',
          maxBackoff: '0.5s',
          backoffMultiplier: 2,
          retryableStatusCodes: ['UNAVAILABLE'],
        },
      },
    ],
  });

export function usersGrpcClient(options: {
  settings: () => UsersGrpcSettings;
  /** Asked before every call: a changed answer moves the channel there. */
  address: () => string;
  identity: IdentitySigner;
}): UsersDirectory {
  let channel: { address: string; client: grpc.Client; getUser: GetUser } | undefined;
  const connect = () => {
    const settings = options.settings();
    const address = options.address();
    if (channel?.address !== address) {
      channel?.client.close();
      const client = new Users(address, grpc.credentials.createInsecure(), {
        'grpc.service_config': retryPolicy(settings.attempts),
        'grpc.enable_retries': 1,
        // A restarted users instance is found again within the retries' backoff, not after gRPC's default 1 s.
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
      });
      channel = {
        address,
        client,
        getUser: (client as unknown as { getUser: GetUser }).getUser.bind(client),
      };
    }
    return channel;
  };

  return {
    async getUser(id) {
      const { getUser } = connect();
      const metadata = new grpc.Metadata();
      metadata.set(IDENTITY_HEADER, options.identity.serviceCredential('orders'));
      const deadline = Date.now() + options.settings().deadlineMs;
      try {
        // A CLIENT span, whose traceparent goes to users in the metadata.
        return await traceGrpcCall(
          'souk.users.v1.Users',
          'GetUser',
          metadata,
          () =>
            new Promise<UserAccount | undefined>((resolve, reject) =>
              getUser({ id }, metadata, { deadline }, (error, reply) =>
                error === null ? resolve(reply) : reject(error),
              ),
            ),
        );
      } catch (error) {
        const code = (error as Partial<grpc.ServiceError>).code;
        if (code === grpc.status.NOT_FOUND) return undefined;
        if (code === grpc.status.UNAVAILABLE)
          throw new UpstreamUnavailableError('users', 'unreachable', { cause: error });
        if (code === grpc.status.DEADLINE_EXCEEDED)
          throw new UpstreamUnavailableError('users', 'timeout', { cause: error });
        throw error;
      }
    },
    close() {
      channel?.client.close();
      channel = undefined;
    },
  };
}
