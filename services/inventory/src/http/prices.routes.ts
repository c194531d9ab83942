// Internal: the orders service prices an order's lines in one call. Never routed by the gateway, and refused to
// anyone without the orders service's credential.
import { servicesOnly, problemResponses, type App } from '@souk/chassis';
import { PriceList, PriceQuery, type Money } from '@souk/contracts';

export function registerPriceRoutes(
  app: App,
  /** The prices of those of the ids that exist, by product id. */
  pricesOf: (productIds: readonly string[]) => Promise<ReadonlyMap<string, Money>>,
): void {
  app.post(
    '/internal/prices',
    {
      onRequest: servicesOnly('orders'),
      schema: {
        summary: 'The current prices of the given products; one that does not exist is left out',
        body: PriceQuery,
        response: { 200: PriceList, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const prices = await pricesOf(request.body.productIds);
      return { items: [...prices].map(([productId, price]) => ({ productId, price })) };
    },
  );
}
