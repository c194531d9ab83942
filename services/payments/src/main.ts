// Starts the payments service: charges, refunds and the ledger on port 5003 by default.
import { runMain } from '@souk/chassis';
import { buildPayments } from './app.ts';

await runMain('payments', () => buildPayments());
