// Internal: the orders service holds stock for an order, then commits or releases it. Never routed by the
// gateway, and refused to anyone without the orders service's credential.
import { servicesOnly, type App, orProblem, rejectionProblem, problemResponses } from '@souk/chassis';
import { Reservation, ReservationParams, ReserveStock } from '@souk/contracts';
import { reservationNotFound } from '../domain/inventory.errors.ts';
import type { ReservationsRepository } from '../data/reservations.repository.ts';

const ordersOnly = servicesOnly('orders');

export function registerReservationRoutes(app: App, reservations: ReservationsRepository): void {
  app.post(
    '/internal/reservations',
    {
      onRequest: ordersOnly,
      schema: {
        summary: 'Reserve stock for every item or none; idempotent per reservationId',
        body: ReserveStock,
        response: { 200: Reservation, 201: Reservation, ...problemResponses(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const { reservation, created } = orProblem(
        await reservations.reserve(request.body.reservationId, request.body.items),
      );
      return reply.status(created ? 201 : 200).send(reservation);
    },
  );

  app.get(
    '/internal/reservations/:id',
    {
      onRequest: ordersOnly,
      schema: {
        summary: 'One reservation',
        params: ReservationParams,
        response: { 200: Reservation, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const reservation = await reservations.find(request.params.id);
      if (reservation === undefined) throw rejectionProblem(reservationNotFound(request.params.id));
      return reservation;
    },
  );

  app.post(
    '/internal/reservations/:id/commit',
    {
      onRequest: ordersOnly,
      schema: {
        summary: 'Turn held stock into sold stock; idempotent',
        params: ReservationParams,
        response: { 200: Reservation, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => orProblem(await reservations.commit(request.params.id)),
  );

  app.post(
    '/internal/reservations/:id/release',
    {
      onRequest: ordersOnly,
      schema: {
        summary: 'Give the stock back, once; an unknown id is remembered as released',
        params: ReservationParams,
        response: { 200: Reservation, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => reservations.release(request.params.id),
  );
}
