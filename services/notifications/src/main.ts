// Starts the notifications service: users' notifications on port 5005 by default, fed by the events it consumes.
import { buildNotifications } from './app.ts';

const { service, subscriptions } = await buildNotifications();
for (const subscription of subscriptions) service.subscribe(subscription);
await service.start();
