// Souk's API gateway: the one public entry, in front of users, orders, payments, inventory and notifications.
import { setFlagsFromString } from 'node:v8';
import { runMain } from '@souk/chassis';
import { buildGateway } from './app.ts';

// V8 pretenures an allocation site whose objects often survive a scavenge: they are allocated in the old
// generation from then on. Some of a proxied request's sites get pretenured in the gateway, and those objects,
// dead soon after, keep the young objects they point to alive through every scavenge until a mark-compact:
// 4.3 MiB copied a scavenge and pauses of 8-20 ms, against 0.3 MiB and 1-2 ms without pretenuring (README,
// Performance → Gateway). Set before the first request allocates.
setFlagsFromString('--no-allocation-site-pretenuring');

await runMain('gateway', () => buildGateway());
