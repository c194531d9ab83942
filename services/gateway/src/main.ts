// Souk's API gateway: the one public entry, in front of users, orders, payments, inventory and notifications.
import { runMain } from '@souk/chassis';
import { buildGateway } from './app.ts';

await runMain('gateway', () => buildGateway());
