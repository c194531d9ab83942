// Starts the inventory service: catalog, stock and reservations on port 5004 by default.
import { runMain } from '@souk/chassis';
import { buildInventory } from './app.ts';

await runMain('inventory', () => buildInventory());
