export {
  StepRejected,
  SAGA_MIGRATIONS,
  type SagaDefinition,
  type SagaStep,
  type SagaStatus,
  type StepContext,
} from './saga.ts';
export { SagaRunner, readSagaSteps, type SagaRunnerOptions, type SagaStepRecord } from './saga-runner.ts';
