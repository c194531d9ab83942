// Public: a customer reads the payments of their own orders; an admin reads anyone's.
import { isUuid } from '@souk/kit';
import { requireUser, usersOnly, type App, problemResponses } from '@souk/chassis';
import { Page, Payment, PaymentQuery } from '@souk/contracts';
import type { PaymentsRepository } from '../data/payments.repository.ts';

/** The contract has no paging for payments yet; an order has a handful, a customer rarely more than this. */
export const PAYMENTS_LIST_LIMIT = 100;

export function registerPaymentRoutes(app: App, payments: PaymentsRepository): void {
  app.get(
    '/api/payments',
    {
      onRequest: usersOnly,
      schema: {
        summary: "Your payments, newest first, or one order's; an admin sees anyone's",
        querystring: PaymentQuery,
        response: { 200: Page(Payment), ...problemResponses(400, 401) },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const orderId = request.query.orderId?.toLowerCase();
      if (user.role === 'admin')
        return { items: await payments.list({ orderId, limit: PAYMENTS_LIST_LIMIT }) };
      // Someone else's order reads as an order without payments: nothing is revealed about it.
      if (!isUuid(user.sub)) return { items: [] };
      const userId = user.sub.toLowerCase();
      return { items: await payments.list({ userId, orderId, limit: PAYMENTS_LIST_LIMIT }) };
    },
  );
}
