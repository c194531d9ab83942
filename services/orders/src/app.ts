// Orders owns orders (event-sourced) and the sagas that place and cancel them.
import {
  EVENT_STORE_MIGRATIONS,
  SAGA_MIGRATIONS,
  SagaRunner,
  createService,
  pruneFinishedSagas,
  type ConfigSource,
} from '@souk/chassis';
import { Counter, type Registry as MetricsRegistry } from 'prom-client';
import Type from 'typebox';
import { usersGrpcAddress, usersGrpcClient } from './grpc/users.client.ts';
import { adminSagaRoutes } from './http/admin-sagas.routes.ts';
import { orderRoutes } from './http/orders.routes.ts';
import { Orders, type PublishEvent } from './orders.ts';
import { inventoryParticipant } from './participants/inventory.participant.ts';
import { paymentsParticipant } from './participants/payments.participant.ts';
import { cancelOrderSaga } from './sagas/cancel-order.saga.ts';
import { placeOrderSaga } from './sagas/place-order.saga.ts';

export const settings = {
  users: Type.Object(
    {
      /** Where users' gRPC API listens (host:port), until the registry names it. */
      grpcUrl: Type.String({ default: '127.0.0.1:50051' }),
      /** One GetUser, retries included, answers within this or placement answers 503. */
      deadlineMs: Type.Integer({ minimum: 50, default: 2000 }),
      /** Tries of a GetUser that found users unavailable. */
      attempts: Type.Integer({ minimum: 1, maximum: 5, default: 3 }),
    },
    { default: {} },
  ),
  saga: Type.Refine(
    Type.Object(
      {
        stepTimeoutMs: Type.Integer({
          minimum: 100,
          default: 5000,
          description: 'How long one attempt of a step may take; live, from the next attempt.',
        }),
        chargeTimeoutMs: Type.Integer({
          minimum: 100,
          default: 12_000,
          description: 'How long one charge attempt may take; live, from the next attempt.',
        }),
        stepAttempts: Type.Integer({
          minimum: 1,
          default: 8,
          description: 'Attempts of a step before the saga compensates; live, from the next step.',
        }),
        retryBaseMs: Type.Integer({
          minimum: 1,
          default: 100,
          description: 'The first backoff between attempts; live.',
        }),
        leaseMs: Type.Integer({
          minimum: 1000,
          default: 30_000,
          description:
            'How long a saga stays with its runner unrenewed; longer than stepTimeoutMs and chargeTimeoutMs. Live, from the next lease.',
        }),
        scanIntervalMs: Type.Integer({
          minimum: 50,
          default: 1000,
          description: 'How often sagas nobody drives are looked for; live, from the next scan.',
        }),
        keepFinishedMs: Type.Integer({
          minimum: 0,
          default: 30 * 24 * 3_600_000,
          description: 'How long a finished saga and its step log (the saga part of a timeline) are kept.',
        }),
        participantPatienceMs: Type.Integer({
          minimum: 0,
          default: 60_000,
          description:
            'How long a step waits for a participant that is down, restarting or still busy with the same key before those failures count as attempts. Live.',
        }),
        deadlineMs: Type.Integer({
          minimum: 1000,
          default: 600_000,
          description:
            'An unfinished saga older than this counts in saga_past_deadline (an alert); nothing is cancelled for it. Read once at start.',
        }),
      },
      { default: {} },
    ),
    (saga) => saga.leaseMs > Math.max(saga.stepTimeoutMs, saga.chargeTimeoutMs),
    () => 'leaseMs must be longer than stepTimeoutMs and chargeTimeoutMs',
  ),
  traces: Type.Object(
    {
      uiUrl: Type.String({
        default: 'http://localhost:16686/trace/{traceId}',
        description:
          "Where an operator opens one trace (Jaeger's UI by default); `{traceId}` stands for its id. Live.",
      }),
    },
    { default: {} },
  ),
  idempotency: Type.Object(
    {
      leaseMs: Type.Integer({
        minimum: 1,
        default: 30_000,
        description:
          'How long a request holds its Idempotency-Key before a retry may resume it; read once at start.',
      }),
    },
    { default: {} },
  ),
};

export async function buildOrders(
  options: { env?: NodeJS.ProcessEnv; configSource?: ConfigSource; publish?: PublishEvent } = {},
) {
  const service = await createService({
    name: 'orders',
    description: 'Orders, event-sourced, and the sagas that place and cancel them.',
    config: settings,
    migrations: [EVENT_STORE_MIGRATIONS, SAGA_MIGRATIONS, new URL('./data/migrations/', import.meta.url)],
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.configSource === undefined ? {} : { configSource: options.configSource }),
  });
  const { db, log, identity } = service;
  // Saga settings are read where they are used, so a change from the config center applies without a restart.
  const saga = () => service.config.current.saga;

  const inventory = inventoryParticipant(service.upstream('inventory'), identity, () => saga().stepTimeoutMs);
  const payments = paymentsParticipant(service.upstream('payments'), identity, () => saga().chargeTimeoutMs);
  const sagas = new SagaRunner({
    db,
    log,
    live: () => {
      const now = saga();
      return {
        leaseMs: now.leaseMs,
        scanIntervalMs: now.scanIntervalMs,
        retryBaseMs: now.retryBaseMs,
        defaultStepTimeoutMs: now.stepTimeoutMs,
        defaultStepAttempts: now.stepAttempts,
        unreachedPatienceMs: now.participantPatienceMs,
      };
    },
    metrics: service.metrics,
    deadlineMs: saga().deadlineMs,
  });
  const counted = orderCounters(service.metrics);
  const publish: PublishEvent = async (tx, type, data, subject) => {
    await service.outbox.add(tx, type, data, { subject });
    counted(type);
  };
  const usersSettings = () => service.config.current.users;
  const users = usersGrpcClient({
    settings: usersSettings,
    address: usersGrpcAddress(service.registry, usersSettings),
    identity,
  });
  service.onClose(() => users.close());
  const orders = new Orders({
    db,
    sagas,
    inventory,
    payments,
    users,
    publish,
    secret: service.config.current.internal.secret,
    keyLeaseMs: service.config.current.idempotency.leaseMs,
  });
  sagas.register(
    placeOrderSaga({
      inventory,
      payments,
      chargeTimeoutMs: () => saga().chargeTimeoutMs,
      outcomes: {
        completed: (tx, state) => orders.placementCompleted(tx, state),
        compensated: (tx, state, reason) => orders.cancelled(tx, state.orderId, reason),
      },
    }),
  );
  sagas.register(
    cancelOrderSaga({
      inventory,
      payments,
      cancelled: (tx, state) => orders.cancelled(tx, state.orderId, state.reason),
    }),
  );
  service.retain({
    name: 'finished-sagas',
    keepMs: () => service.config.current.saga.keepFinishedMs,
    prune: pruneFinishedSagas,
  });
  service.addWorker({ name: 'sagas', start: () => sagas.start(), stop: () => sagas.stop() });

  orderRoutes(service.app, orders, db);
  adminSagaRoutes(service.app, {
    db,
    sagas,
    settings: () => ({ deadlineMs: saga().deadlineMs, traceUiUrl: service.config.current.traces.uiUrl }),
  });
  return Object.assign(service, { sagas });
}

/**
 * The business counters, counted where each order event is written: in its transaction, so one that rolls back
 * afterwards (rare: a lost saga lease, a key taken over) may count an order twice; fine for rates and ratios.
 */
function orderCounters(metrics: MetricsRegistry): (eventType: string) => void {
  const counter = (name: string, help: string) => new Counter({ name, help, registers: [metrics] });
  const byEvent = new Map([
    ['order.created', counter('orders_placed_total', 'Orders placed (accepted as PENDING).')],
    ['order.confirmed', counter('orders_confirmed_total', 'Orders confirmed: charged and stock committed.')],
    [
      'order.cancelled',
      counter('orders_cancelled_total', 'Orders cancelled: stock released, any charge refunded.'),
    ],
  ]);
  return (eventType) => byEvent.get(eventType)?.inc();
}
