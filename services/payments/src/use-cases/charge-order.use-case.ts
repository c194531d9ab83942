// Charging an order, in three steps that survive a crash between any two: (1) claim the key and record the
// payment PENDING, (2) ask the processor, outside any transaction, (3) settle the payment and store the answer.
// A worker that dies after (1) leaves the key leased; once the lease ran out, a retry with the key resumes at
// (2) under the same reference, and the processor, idempotent per reference, answers as it did before.
import type { Logger } from '@souk/chassis';
import type { Charge, Payment } from '@souk/contracts';
import type { Reply } from '@souk/kit';
import type { ProcessorDecision } from '../domain/payment.model.ts';
import { processorFailed, processorTimeout, type Rejection } from '../domain/payments.errors.ts';
import type { PaymentsRepository } from '../data/payments.repository.ts';
import { ProcessorTimeoutError, chargeWithin, type CardProcessor } from '../processor/card-processor.ts';

export interface ChargeSettings {
  /** How long the processor may take to answer. */
  timeoutMs: number;
  /** How long a key stays held by a worker that has not finished; longer than `timeoutMs`. */
  leaseMs: number;
}

export class ChargeOrder {
  readonly #payments: PaymentsRepository;
  readonly #processor: CardProcessor;
  readonly #settings: () => ChargeSettings;
  readonly #log: Logger;

  constructor(
    payments: PaymentsRepository,
    processor: CardProcessor,
    settings: () => ChargeSettings,
    log: Logger,
  ) {
    this.#payments = payments;
    this.#processor = processor;
    this.#settings = settings;
    this.#log = log;
  }

  async charge(caller: string, key: string, charge: Charge): Promise<Reply<Payment>> {
    const { timeoutMs, leaseMs } = this.#settings();
    const start = await this.#payments.beginCharge({ caller, key, charge, leaseMs });
    if (start.kind === 'answered') return start.reply;
    const { payment, card } = start;

    let decision: ProcessorDecision;
    try {
      decision = await chargeWithin(
        this.#processor,
        { reference: payment.id, amount: payment.amount, card },
        timeoutMs,
      );
    } catch (error) {
      // The payment stays PENDING and the key unfinished: a retry with the key asks the processor again.
      await this.#payments.release(caller, key);
      if (error instanceof ProcessorTimeoutError) {
        this.#log.warn({ paymentId: payment.id, timeoutMs }, 'the card processor did not answer in time');
        return refused(processorTimeout(timeoutMs));
      }
      this.#log.error({ err: error, paymentId: payment.id }, 'the card processor failed');
      return refused(processorFailed());
    }

    try {
      return await this.#payments.settleCharge({ caller, key, paymentId: payment.id, decision });
    } catch (error) {
      await this.#payments.release(caller, key).catch(() => {});
      throw error;
    }
  }
}

const refused = (rejection: Rejection): Reply<Payment> => ({
  answer: { ok: false, rejection },
  replayed: false,
});
