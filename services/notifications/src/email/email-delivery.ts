// Email for each notification, outside the transaction that recorded it: tried right after the commit, retried
// with backoff a bounded number of times, and swept for anything a restart interrupted. At-least-once: a sender
// claims the email in a short transaction, talks to the SMTP server outside any transaction, then logs the
// result; one that dies between the server's acceptance and the log leaves its claim to run out, and the email
// is sent again. The claim keeps concurrent senders apart; the delivery log records one success at most.
import { setTimeout as sleep } from 'node:timers/promises';
import { withTransaction, type Logger, type Pool } from '@souk/chassis';
import { backoffDelay } from '@souk/kit';
import type { DeliveriesRepository, EmailJob } from '../data/deliveries.repository.ts';
import type { Mailer } from './mailer.ts';

/** However many attempts are left, an email is tried again at least this often. */
const MAX_RETRY_DELAY_MS = 10 * 60_000;

export interface EmailPolicy {
  /** Attempts per notification, the first included. */
  maxAttempts: number;
  /** The wait after the first failure; it doubles after each further one. */
  retryBaseDelayMs: number;
  /** How often to look for emails that are due and not in flight here. */
  sweepIntervalMs: number;
}

export type AttemptStatus =
  | 'sent'
  | 'failed'
  | 'already-sent'
  | 'gave-up'
  | 'no-recipient'
  | 'no-mailer'
  /** Missing, or another sender holds it right now. */
  | 'unavailable';

export interface AttemptResult {
  status: AttemptStatus;
  /** Failed attempts so far, this one included. */
  failures: number;
}

export interface EmailDeliveryOptions {
  db: Pool;
  deliveries: DeliveriesRepository;
  mailer: () => Mailer | undefined;
  policy: () => EmailPolicy;
  clock: () => Date;
  log: Logger;
}

/** Notifications older than this are no longer worth an email. */
const SWEEP_WINDOW_MS = 24 * 60 * 60 * 1000;
const SWEEP_BATCH = 50;
/** How long a sender's claim keeps others off an email: well beyond the mailer's timeouts (10 s each). */
const CLAIM_MS = 120_000;
const MAX_ERROR_LENGTH = 1000;

const errorText = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).slice(0, MAX_ERROR_LENGTH);

export class EmailDelivery {
  readonly #options: EmailDeliveryOptions;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #stopping = new AbortController();
  #sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: EmailDeliveryOptions) {
    this.#options = options;
  }

  /** One attempt to email the notification, recorded in the delivery log unless there was nothing to try. */
  async attempt(notificationId: string): Promise<AttemptResult> {
    const { db, deliveries, clock } = this.#options;
    const mailer = this.#options.mailer();
    if (mailer === undefined) return { status: 'no-mailer', failures: 0 };
    const { maxAttempts } = this.#options.policy();
    const claimed = await withTransaction(
      db,
      async (tx): Promise<AttemptResult | (EmailJob & { to: string })> => {
        const job = await deliveries.lockEmail(tx, notificationId);
        if (job === undefined || job.claimed) return { status: 'unavailable', failures: 0 };
        const { failures } = job;
        if (job.sent) return { status: 'already-sent', failures };
        if (job.to === undefined) return { status: 'no-recipient', failures };
        if (failures >= maxAttempts) return { status: 'gave-up', failures };
        await deliveries.claimEmail(tx, notificationId, CLAIM_MS);
        return { ...job, to: job.to };
      },
    );
    if ('status' in claimed) return claimed;
    const { to, failures } = claimed;
    const entry = { notificationId, channel: 'email', recipient: to } as const;
    try {
      await mailer.send({ to, subject: claimed.subject, text: claimed.text });
    } catch (error) {
      await deliveries.log(db, { ...entry, status: 'failed', error: errorText(error), at: clock() });
      return { status: 'failed', failures: failures + 1 };
    }
    await deliveries.log(db, { ...entry, status: 'sent', at: clock() });
    return { status: 'sent', failures };
  }

  /** Call once the notification's transaction committed: emails it in the background, retrying with backoff. */
  schedule(notificationId: string): void {
    if (this.#stopping.signal.aborted) return;
    this.#track(this.#deliver(notificationId));
  }

  /** Tries each due email once; resolves with how many were sent. */
  async sweep(): Promise<number> {
    const policy = this.#options.policy();
    const due = await this.#options.deliveries.dueEmails(
      this.#options.clock(),
      { ...policy, graceMs: policy.sweepIntervalMs, windowMs: SWEEP_WINDOW_MS },
      SWEEP_BATCH,
    );
    let sent = 0;
    for (const id of due) {
      if (this.#stopping.signal.aborted) break;
      if ((await this.attempt(id)).status === 'sent') sent++;
    }
    return sent;
  }

  /** Starts sweeping every `sweepIntervalMs` (read again each time, so a config change applies). */
  start(): void {
    const next = () => {
      if (this.#stopping.signal.aborted) return;
      this.#sweepTimer = setTimeout(() => {
        this.#track(
          this.sweep().then(
            () => next(),
            (error: unknown) => {
              this.#options.log.warn({ err: error }, 'email sweep failed');
              next();
            },
          ),
        );
      }, this.#options.policy().sweepIntervalMs).unref();
    };
    next();
  }

  /** Resolves when no email work is in flight or waiting for a retry. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Stops retrying and sweeping, and waits for attempts already under way. */
  async close(): Promise<void> {
    this.#stopping.abort();
    clearTimeout(this.#sweepTimer);
    await this.settled();
  }

  async #deliver(notificationId: string): Promise<void> {
    try {
      for (;;) {
        const { status, failures } = await this.attempt(notificationId);
        if (status !== 'failed') return;
        const { maxAttempts, retryBaseDelayMs } = this.#options.policy();
        if (failures >= maxAttempts) {
          this.#options.log.warn({ notificationId, failures }, 'email not delivered; giving up');
          return;
        }
        const delay = backoffDelay(failures, {
          baseDelayMs: retryBaseDelayMs,
          maxDelayMs: Math.max(retryBaseDelayMs, MAX_RETRY_DELAY_MS),
        });
        await sleep(delay, undefined, { signal: this.#stopping.signal });
      }
    } catch (error) {
      if (this.#stopping.signal.aborted) return;
      // The sweep tries again later; the in-app notification is safe either way.
      this.#options.log.warn({ err: error, notificationId }, 'email attempt failed');
    }
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }
}
