// Internal: the orders service refunds an order, compensating a charge whose outcome it may never have seen.
import { problemResponses } from '@souk/chassis';
// Never routed by the gateway.
import type { App } from '@souk/chassis';
import { Refund, RefundResult } from '@souk/contracts';
import type { PaymentsRepository } from '../data/payments.repository.ts';
import { IdempotencyKeyHeader, idempotencyKeyOf, sendReply } from '@souk/chassis';
import { callerOf, ordersOnly } from './internal.guard.ts';

export function registerRefundRoutes(app: App, payments: PaymentsRepository): void {
  app.post(
    '/internal/payments/refunds',
    {
      onRequest: ordersOnly,
      schema: {
        summary: "Refund an order's charge, if any, and close the order to later charges; idempotent",
        headers: IdempotencyKeyHeader,
        body: Refund,
        response: { 200: RefundResult, ...problemResponses(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const key = idempotencyKeyOf(request);
      return sendReply(reply, await payments.refund({ caller, key, orderId: request.body.orderId }));
    },
  );
}
