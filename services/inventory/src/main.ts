// Starts the inventory service: catalog, stock and reservations on port 5004 by default.
import { buildInventory } from './app.ts';

const service = await buildInventory();
await service.start();
