// Internal: the orders service hands over a card number once and keeps only its token. Never routed by the
// gateway.
import { problemResponses, rejectionProblem, type App } from '@souk/chassis';
import { TokeniseCard, TokenisedCard } from '@souk/contracts';
import type { CardVault } from '../data/cards.repository.ts';
import { luhnValid } from '../domain/card.model.ts';
import { invalidCard } from '../domain/payments.errors.ts';
import { ordersOnly } from './internal.guard.ts';

export function registerCardRoutes(app: App, cards: CardVault): void {
  app.post(
    '/internal/payments/cards',
    {
      onRequest: ordersOnly,
      schema: {
        summary: 'Keep a card and answer its token; the same card always gets the same token',
        body: TokeniseCard,
        response: { 201: TokenisedCard, ...problemResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      if (!luhnValid(request.body.card)) throw rejectionProblem(invalidCard());
      return reply.status(201).send(await cards.tokenise(request.body.card));
    },
  );
}
