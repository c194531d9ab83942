// Internal: the orders service prices an order's lines in one call. Never routed by the gateway, and refused to
// anyone without the orders service's credential.
import { servicesOnly, problemResponses, type App } from '@souk/chassis';
import { PriceList, PriceQuery } from '@souk/contracts';
import type { ProductsRepository } from '../data/products.repository.ts';

export function registerPriceRoutes(app: App, products: ProductsRepository): void {
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
    async (request) => ({ items: await products.prices(request.body.productIds) }),
  );
}
