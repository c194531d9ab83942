// Payments: charges an order's card through a card processor, refunds it, and books both in a double-entry ledger.
import { createService, type ConfigSource, type Service, type ServiceConfig } from '@souk/chassis';
import Type from 'typebox';
import { CardVault } from './data/cards.repository.ts';
import { PaymentsRepository } from './data/payments.repository.ts';
import { registerCardRoutes } from './http/cards.routes.ts';
import { registerChargeRoutes } from './http/charges.routes.ts';
import { registerPaymentRoutes } from './http/payments.routes.ts';
import { registerRefundRoutes } from './http/refunds.routes.ts';
import type { CardProcessor } from './processor/card-processor.ts';
import { SimulatedCardProcessor } from './processor/simulated.processor.ts';
import { ChargeOrder } from './use-cases/charge-order.use-case.ts';
import { ReconcilePendingCharges } from './use-cases/reconcile-charges.use-case.ts';

export const settings = {
  processor: Type.Object(
    {
      timeoutMs: Type.Integer({
        minimum: 1,
        default: 5000,
        description: 'How long the card processor may take to answer a charge; read once at start.',
      }),
    },
    { default: {} },
  ),
  reconcile: Type.Object(
    {
      intervalMs: Type.Integer({
        minimum: 50,
        default: 30_000,
        description: 'How often charges left PENDING are looked for.',
      }),
      staleAfterMs: Type.Integer({
        minimum: 1,
        default: 60_000,
        description:
          'How long a charge stays PENDING before it is looked up with the processor; keep it above processor.timeoutMs.',
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
          'How long an unfinished request holds its key before a retry may resume it; keep it above processor.timeoutMs. Read once at start.',
      }),
    },
    { default: {} },
  ),
};

export type PaymentsConfig = ServiceConfig<typeof settings>;

export interface PaymentsOptions {
  env?: NodeJS.ProcessEnv;
  configSource?: ConfigSource;
  /** The card processor; the simulated one by default. */
  processor?: CardProcessor;
  newId?: () => string;
}

export async function buildPayments(options: PaymentsOptions = {}): Promise<Service<PaymentsConfig>> {
  const service = await createService({
    name: 'payments',
    description: "Charges an order's card, refunds it, and books both in a double-entry ledger.",
    config: settings,
    migrations: new URL('./data/migrations/', import.meta.url),
    env: options.env,
    configSource: options.configSource,
  });
  try {
    const payments = new PaymentsRepository(service.db, {
      fingerprintSecret: service.config.current.internal.secret,
      outbox: service.outbox,
      newId: options.newId,
    });
    const processor = options.processor ?? new SimulatedCardProcessor();
    const charges = new ChargeOrder(
      payments,
      processor,
      () => ({
        timeoutMs: service.config.current.processor.timeoutMs,
        leaseMs: service.config.current.idempotency.leaseMs,
      }),
      service.log,
    );
    const reconciler = new ReconcilePendingCharges(
      payments,
      processor,
      () => {
        const { processor: processorSettings, reconcile } = service.config.current;
        // Never look up a charge whose worker may still be waiting for the processor's answer.
        const staleAfterMs = Math.max(reconcile.staleAfterMs, processorSettings.timeoutMs * 2);
        return { timeoutMs: processorSettings.timeoutMs, intervalMs: reconcile.intervalMs, staleAfterMs };
      },
      service.log,
    );
    service.addWorker(reconciler.worker());
    registerCardRoutes(service.app, new CardVault(service.db, () => service.config.current.internal.secret));
    registerChargeRoutes(service.app, charges);
    registerRefundRoutes(service.app, payments);
    registerPaymentRoutes(service.app, payments);
  } catch (error) {
    await service.stop();
    throw error;
  }
  return service;
}
