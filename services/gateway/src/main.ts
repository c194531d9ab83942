// Souk's API gateway: the one public entry, in front of users, orders, payments, inventory and notifications.
import { buildGateway } from './app.ts';

const gateway = await buildGateway();
await gateway.start();
