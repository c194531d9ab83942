// Composition root of the users service.
import { buildUsers } from './app.ts';

const users = await buildUsers();
await users.start();
