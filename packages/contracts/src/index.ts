// The public contract of Souk: API schemas, event types and role names shared by every service. Types only.
export * from './common.ts';
export * from './users.ts';
export * from './products.ts';
export * from './payments.ts';
export * from './notifications.ts';
export * from './events.ts';
export * from './outcome.ts';
export * from './errors.ts';
