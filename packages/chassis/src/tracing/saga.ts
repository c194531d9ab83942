// A saga step attempt, or a compensation attempt, as an INTERNAL span: the participant calls it makes are its
// children, and its attributes say which saga, which step, which attempt and how it ended. A saga run from a
// request is in that request's trace; one resumed by a scan starts a trace per attempt.
import { SpanStatusCode, context, trace } from '@opentelemetry/api';
import { tracer } from './tracer.ts';

export type AttemptOutcome = 'succeeded' | 'rejected' | 'failed' | 'stopped';

export interface SagaAttempt {
  /** Runs the attempt's work inside its span. */
  run<T>(work: () => Promise<T>): Promise<T>;
  end(outcome: AttemptOutcome, error?: unknown): void;
}

export function startSagaAttempt(attempt: {
  saga: string;
  sagaId: string;
  step: string;
  direction: 'forward' | 'compensation';
  attempt: number;
}): SagaAttempt {
  const parent = context.active();
  const span = tracer().startSpan(
    `${attempt.saga} ${attempt.direction === 'forward' ? attempt.step : `compensate ${attempt.step}`}`,
    {
      attributes: {
        'souk.saga.name': attempt.saga,
        'souk.saga.id': attempt.sagaId,
        'souk.saga.step': attempt.step,
        'souk.saga.direction': attempt.direction,
        'souk.saga.attempt': attempt.attempt,
      },
    },
    parent,
  );
  return {
    run: (work) => context.with(trace.setSpan(parent, span), work),
    end(outcome, error) {
      span.setAttribute('souk.saga.outcome', outcome);
      // A rejection is a business answer (declined, out of stock), not a fault; a failed attempt is.
      if (outcome === 'failed')
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: error instanceof Error ? error.message : String(error),
        });
      span.end();
    },
  };
}
