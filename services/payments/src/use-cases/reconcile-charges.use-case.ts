// Charges whose answer never came back (the processor hung, or this service died between recording a charge
// PENDING and settling it) are looked up with the processor and settled the way a normal charge is: the ledger,
// the payment events, and the answer stored under the charge's key, so a retry of the saga step hears it.
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger, Worker } from '@souk/chassis';
import type { PaymentsRepository, PendingCharge } from '../data/payments.repository.ts';
import type { ProcessorDecision } from '../domain/payment.model.ts';
import { statusWithin, type CardProcessor } from '../processor/card-processor.ts';

export interface ReconcileSettings {
  /** How long the processor may take to answer a look-up. */
  timeoutMs: number;
  /** How long a charge stays PENDING before it is looked up; longer than any charge may take. */
  staleAfterMs: number;
  /** How long to wait between sweeps. */
  intervalMs: number;
}

/** How many stale charges one sweep takes on. */
const BATCH = 50;

/** A charge the processor never received can never succeed: it fails, and the order may be charged anew. */
const NEVER_RECEIVED: ProcessorDecision = {
  approved: false,
  reason: 'the charge never reached the processor',
};

export class ReconcilePendingCharges {
  readonly #payments: PaymentsRepository;
  readonly #processor: CardProcessor;
  readonly #settings: () => ReconcileSettings;
  readonly #log: Logger;

  constructor(
    payments: PaymentsRepository,
    processor: CardProcessor,
    settings: () => ReconcileSettings,
    log: Logger,
  ) {
    this.#payments = payments;
    this.#processor = processor;
    this.#settings = settings;
    this.#log = log;
  }

  /** One pass: settles each stale PENDING charge it can; returns how many it settled. */
  async sweep(): Promise<number> {
    const { staleAfterMs } = this.#settings();
    const stale = await this.#payments.takeStalePending(staleAfterMs, BATCH);
    let settled = 0;
    for (const charge of stale) {
      try {
        await this.#settle(charge);
        settled++;
      } catch (error) {
        // Left PENDING: the next sweep asks again, once the charge is stale again.
        this.#log.warn({ err: error, paymentId: charge.payment.id }, 'a pending charge could not be settled');
      }
    }
    return settled;
  }

  /** Sweeps every `intervalMs` from start until stop. */
  worker(): Worker {
    const stopping = new AbortController();
    let running: Promise<void> | undefined;
    const loop = async () => {
      while (!stopping.signal.aborted) {
        await this.sweep().catch((error: unknown) => {
          this.#log.error({ err: error }, 'sweeping pending charges failed');
        });
        await delay(this.#settings().intervalMs, undefined, { signal: stopping.signal }).catch(() => {});
      }
    };
    return {
      name: 'pending-charges',
      start: () => {
        running = loop();
      },
      stop: async () => {
        stopping.abort();
        await running;
      },
    };
  }

  async #settle({ caller, key, payment, card }: PendingCharge): Promise<void> {
    const status = await statusWithin(
      this.#processor,
      { reference: payment.id, amount: payment.amount, card },
      this.#settings().timeoutMs,
    );
    const decision = status === 'unknown' ? NEVER_RECEIVED : status;
    await this.#payments.settleCharge({ caller, key, paymentId: payment.id, decision });
    this.#log.info(
      { paymentId: payment.id, orderId: payment.orderId, approved: decision.approved },
      'a pending charge was settled after the fact',
    );
  }
}
