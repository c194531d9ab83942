// The chassis' service surface, where services import it from: createService() and its types.
export { createService, type Service, type ServiceOptions, type Worker } from './create-service.ts';
export { configSchema, type ServiceConfig } from './plugins/config.ts';
export { requestIdOf, type App, type FrontHandler } from './plugins/http.ts';
