// Inventory: the product catalog, its stock, and the reservations that hold stock for orders.
import { randomUUID } from 'node:crypto';
import {
  createService,
  NotifiedCache,
  type ConfigSource,
  type Service,
  type ServiceConfig,
} from '@souk/chassis';
import type { Money } from '@souk/contracts';
import Type from 'typebox';
import { seedDemoCatalog } from './data/demo-catalog.seed.ts';
import { PRICES_CHANGED_CHANNEL, ProductsRepository } from './data/products.repository.ts';
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

/** How many products' prices each instance keeps in memory. */
const PRICES_KEPT = 10_000;

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
    // Orders asks for the prices at every order: answer from memory, forgetting a price as soon as it changes,
    // whichever instance (or operator) changed it.
    const prices = new NotifiedCache<Money>({
      name: 'price-cache',
      pool: service.db,
      channel: PRICES_CHANGED_CHANNEL,
      log: service.log,
      max: PRICES_KEPT,
      load: (ids) => products.prices(ids),
    });
    service.addWorker(prices.worker());
    registerPriceRoutes(service.app, (ids) => prices.getMany(ids));
    registerReservationRoutes(service.app, new ReservationsRepository(service.db));
  } catch (error) {
    await service.stop();
    throw error;
  }
  return service;
}
