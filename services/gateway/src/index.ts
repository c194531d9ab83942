// The gateway as a library, for system tests that run the shop in one process; main.ts is the entry point.
export { buildGateway, type Gateway, type GatewayConfig, type GatewayOptions } from './app.ts';
