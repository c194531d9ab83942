// How the saga talks to a participant: a service credential and the step's idempotency key on every call;
// a refusal for a business reason becomes StepRejected, "still working on it" StepInProgress (waited for), and
// anything else is an error worth retrying.
import {
  IDENTITY_HEADER,
  StepInProgress,
  StepRejected,
  type IdentitySigner,
  type UpstreamClient,
  type UpstreamRequest,
} from '@souk/chassis';
import { IdempotencyErrorCode, PaymentsErrorCode } from '@souk/contracts';

export interface ParticipantCall {
  method: UpstreamRequest['method'];
  path: string;
  body?: unknown;
  /** The step's key; left out for a call that is idempotent by nature. */
  idempotencyKey?: string;
  timeoutMs: number;
  /** Problem codes that mean "no" for good, with the reason the customer will read. */
  rejections?: Record<string, (problem: { detail?: string }) => string>;
}

export async function callParticipant<T>(
  upstream: UpstreamClient,
  identity: IdentitySigner,
  call: ParticipantCall,
): Promise<T> {
  const response = await upstream.json<T & { code?: string; detail?: string }>({
    method: call.method,
    path: call.path,
    body: call.body ?? {},
    idempotent: true,
    timeoutMs: call.timeoutMs,
    retries: 0,
    headers: {
      [IDENTITY_HEADER]: identity.serviceCredential('orders'),
      ...(call.idempotencyKey === undefined ? {} : { 'idempotency-key': call.idempotencyKey }),
    },
  });
  if (response.status >= 200 && response.status < 300) return response.body;
  const code = response.body?.code;
  const reject = code === undefined ? undefined : call.rejections?.[code];
  if (reject) throw new StepRejected(reject(response.body));
  if (code === IdempotencyErrorCode.RequestInProgress || code === PaymentsErrorCode.PaymentInProgress)
    throw new StepInProgress(`${upstream.name} is still working on ${call.idempotencyKey}`);
  throw new Error(
    `${upstream.name} answered ${response.status} ${code ?? ''} to ${call.method} ${call.path}`,
  );
}
