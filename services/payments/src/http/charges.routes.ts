// Internal: the orders service charges an order's card. Never routed by the gateway.
import { problemResponses } from '@souk/chassis';
import type { App } from '@souk/chassis';
import { Charge, Payment } from '@souk/contracts';
import type { ChargeOrder } from '../use-cases/charge-order.use-case.ts';
import { IdempotencyKeyHeader, idempotencyKeyOf, sendReply } from '@souk/chassis';
import { callerOf, ordersOnly } from './internal.guard.ts';

export function registerChargeRoutes(app: App, charges: ChargeOrder): void {
  app.post(
    '/internal/payments/charges',
    {
      onRequest: ordersOnly,
      schema: {
        summary: "Charge an order's card, at most once per order; idempotent per Idempotency-Key",
        headers: IdempotencyKeyHeader,
        body: Charge,
        response: { 201: Payment, ...problemResponses(400, 401, 402, 403, 409, 422, 502, 504) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const key = idempotencyKeyOf(request);
      return sendReply(reply, await charges.charge(caller, key, request.body));
    },
  );
}
