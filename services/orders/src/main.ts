// Composition root of the orders service.
import { buildOrders } from './app.ts';

const orders = await buildOrders();
await orders.start();
