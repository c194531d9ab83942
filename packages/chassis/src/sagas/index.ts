export {
  StepInProgress,
  StepRejected,
  SAGA_MIGRATIONS,
  type SagaDefinition,
  type SagaStep,
  type SagaStatus,
  type StepContext,
} from './saga.ts';
export { SagaRunner, type HeldSaga, type SagaRunnerOptions } from './saga-runner.ts';
export {
  pruneFinishedSagas,
  readSagaSteps,
  sagaOverview,
  type SagaStepRecord,
  type SagaSummary,
} from './store.ts';
