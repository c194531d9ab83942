// Inventory: the product catalog, its stock, and the reservations that hold stock for orders.
import { randomUUID } from 'node:crypto';
import { createService, type ConfigSource, type Service, type ServiceConfig } from '@souk/chassis';
import Type from 'typebox';
import { seedDemoCatalog } from './data/demo-catalog.seed.ts';
import { ProductsRepository } from './data/products.repository.ts';
import { ReservationsRepository } from './data/reservations.repository.ts';
import { registerPriceRoutes } from './http/prices.routes.ts';
import { registerProductRoutes } from './http/products.routes.ts';
import { registerReservationRoutes } from './http/reservations.routes.ts';

export const settings = {
  seedDemoCatalog: Type.Boolean({
    default: false,
    description:
      'Add the demo catalog at start-up when there are no products yet (the local profile); read once at start.',
  }),
};

export type InventoryConfig = ServiceConfig<typeof settings>;

export interface InventoryOptions {
  env?: NodeJS.ProcessEnv;
  configSource?: ConfigSource;
  newId?: () => string;
}

export async function buildInventory(options: InventoryOptions = {}): Promise<Service<InventoryConfig>> {
  const service = await createService({
    name: 'inventory',
    description: 'Products, their stock, and reservations that hold stock for orders.',
    config: settings,
    migrations: new URL('./data/migrations/', import.meta.url),
    env: options.env,
    configSource: options.configSource,
  });
  const newId = options.newId ?? randomUUID;
  try {
    if (service.config.current.seedDemoCatalog) {
      const added = await seedDemoCatalog(service.db, newId);
      if (added > 0) service.log.info({ products: added }, 'demo catalog seeded');
    }
    const products = new ProductsRepository(service.db, newId);
    registerProductRoutes(service.app, products);
    registerPriceRoutes(service.app, products);
    registerReservationRoutes(service.app, new ReservationsRepository(service.db));
  } catch (error) {
    await service.stop();
    throw error;
  }
  return service;
}
