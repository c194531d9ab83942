// This service's copy of each user's email address and name, kept current from user.registered.
import type { Queryable } from '@souk/chassis';

export interface Recipient {
  userId: string;
  email: string;
  name: string;
}

export class RecipientsRepository {
  async remember(tx: Queryable, recipient: Recipient, at: Date): Promise<void> {
    await tx.query(
      `INSERT INTO recipients (user_id, email, name, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, name = excluded.name, updated_at = excluded.updated_at`,
      [recipient.userId, recipient.email, recipient.name, at],
    );
  }
}
