// The payments service as a package: built by the supervisor and by system tests.
export { buildPayments, type PaymentsConfig, type PaymentsOptions } from './app.ts';
export type { CardProcessor, ChargeRequest, ProcessorDecision } from './processor/card-processor.ts';
export { SimulatedCardProcessor } from './processor/simulated.processor.ts';
