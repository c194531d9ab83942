// The users service as a package: built by the supervisor and by integration tests.
export { buildUsers } from './app.ts';
