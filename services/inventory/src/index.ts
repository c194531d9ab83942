// The inventory service as a package: built by the supervisor and by system tests.
export { buildInventory, type InventoryConfig, type InventoryOptions } from './app.ts';
