// Composition root of the orders service.
import { runMain } from '@souk/chassis';
import { buildOrders } from './app.ts';

await runMain('orders', () => buildOrders());
