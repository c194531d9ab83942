// The card vault: card numbers kept under a token derived from them, so no other service ever holds one.
import { createHmac } from 'node:crypto';
import type { Queryable } from '@souk/chassis';
import type { TokenisedCard } from '@souk/contracts';
import { LRUCache } from 'lru-cache';
import { lastFour } from '../domain/card.model.ts';

/** The card's token: keyed with the internal secret, so it cannot be reversed by trying every number. */
export const cardToken = (secret: string, number: string): string =>
  `card_${createHmac('sha256', secret).update(`card-token\n${number}`).digest('hex').slice(0, 32)}`;

export interface StoredCard {
  readonly number: string;
  readonly last4: string;
}

/** How many tokens a vault remembers as stored: a customer's repeat orders need no write. */
const KNOWN_TOKENS = 10_000;

export class CardVault {
  readonly #db: Queryable;
  readonly #secret: () => string;
  /**
   * Tokens this process has seen stored. A card row is never changed or deleted (nothing prunes `cards`) and its
   * token is derived from the number, so once stored it stays stored: knowing that is never stale.
   */
  readonly #stored = new LRUCache<string, true>({ max: KNOWN_TOKENS });

  constructor(db: Queryable, secret: () => string) {
    this.#db = db;
    this.#secret = secret;
  }

  /** Keeps the card (once) and names its token; the caller has checked the number. */
  async tokenise(number: string): Promise<TokenisedCard> {
    const card = { token: cardToken(this.#secret(), number), last4: lastFour(number) };
    if (this.#stored.has(card.token)) return card;
    await this.#db.query(
      'INSERT INTO cards (token, number, last4) VALUES ($1, $2, $3) ON CONFLICT (token) DO NOTHING',
      [card.token, number, card.last4],
    );
    this.#stored.set(card.token, true);
    return card;
  }
}

/** The card behind a token, in the caller's transaction; undefined when the token names none. */
export async function findCard(db: Queryable, token: string): Promise<StoredCard | undefined> {
  const { rows } = await db.query<StoredCard>('SELECT number, last4 FROM cards WHERE token = $1', [token]);
  return rows[0];
}
