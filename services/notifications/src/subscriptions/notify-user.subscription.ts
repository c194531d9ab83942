// Turns what happened to a user's account, orders and payments into notifications: exactly one per event,
// however often the broker delivers it, with the email sent only after the notification committed.
import type { consumeOnce, Envelope, Logger, Pool, Subscription } from '@souk/chassis';
import type { NotificationsRepository } from '../data/notifications.repository.ts';
import type { RecipientsRepository } from '../data/recipients.repository.ts';
import { draftNotification } from '../domain/notification.model.ts';
import { NOTIFIABLE_TYPES, parseNotifiableEvent } from '../domain/notifiable-event.model.ts';

/** The subscriber group: one durable queue, shared by every instance of this service. */
export const NOTIFICATIONS_GROUP = 'notifications';

/** The inbox (the chassis' `consumeOnce`): the effect commits with the record of the message, or not at all. */
export type ConsumeOnce = typeof consumeOnce;

export interface NotifyUserDependencies {
  db: Pool;
  consumeOnce: ConsumeOnce;
  notifications: NotificationsRepository;
  recipients: RecipientsRepository;
  /** Told of each notification once it committed, to email it. */
  notified(notificationId: string): void;
  newId: () => string;
  clock: () => Date;
  log: Logger;
}

/** A message that can never be handled; thrown so that the transport dead-letters it for a person to read. */
export class MalformedEventError extends Error {
  readonly code = 'MALFORMED_EVENT';

  constructor(envelope: Envelope, detail: string) {
    super(`Event ${String(envelope.id)} (${String(envelope.type)}) is malformed: ${detail}`);
    this.name = 'MalformedEventError';
  }
}

export function notificationSubscriptions(deps: NotifyUserDependencies): Subscription[] {
  return [
    {
      group: NOTIFICATIONS_GROUP,
      types: NOTIFIABLE_TYPES,
      async handle(envelope) {
        const parsed = parseNotifiableEvent(envelope);
        if (!parsed.ok) {
          if (parsed.reason === 'UNSUBSCRIBED_TYPE') return;
          throw new MalformedEventError(envelope, parsed.detail);
        }
        const { event } = parsed;
        const draft = draftNotification(event);
        const id = deps.newId();
        let recorded = false;
        await deps.consumeOnce(deps.db, NOTIFICATIONS_GROUP, envelope, async (tx) => {
          const now = deps.clock();
          if (event.type === 'user.registered') await deps.recipients.remember(tx, event.data, now);
          recorded = await deps.notifications.record(tx, id, draft, now);
        });
        if (recorded) deps.notified(id);
        else deps.log.debug({ eventId: envelope.id, type: envelope.type }, 'event already notified');
      },
    },
  ];
}
