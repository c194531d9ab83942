// Starts the payments service: charges, refunds and the ledger on port 5003 by default.
import { buildPayments } from './app.ts';

const service = await buildPayments();
await service.start();
