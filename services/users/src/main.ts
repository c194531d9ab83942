// Composition root of the users service.
import { runMain } from '@souk/chassis';
import { buildUsers } from './app.ts';

await runMain('users', () => buildUsers());
