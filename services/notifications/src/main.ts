// Starts the notifications service: users' notifications on port 5005 by default, fed by the events it consumes.
import { runMain } from '@souk/chassis';
import { buildNotifications } from './app.ts';

await runMain('notifications', async () => {
  const { service, subscriptions } = await buildNotifications();
  for (const subscription of subscriptions) service.subscribe(subscription);
  return service;
});
