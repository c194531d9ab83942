// The sagas for admins: in flight, stuck past the deadline, recently finished, each with its order's timeline
// and trace; a stuck one can be resumed, and each resume is audited.
import {
  adminsOnly,
  conflict,
  notFound,
  recordAdminAction,
  requireAdmin,
  sagaOverview,
  type App,
  type Pool,
  type SagaRunner,
  type SagaSummary,
} from '@souk/chassis';
import { StrictObject, Uuid } from '@souk/contracts';
import { isUuid } from '@souk/kit';
import Type from 'typebox';

export interface AdminSagaSettings {
  /** An unfinished saga older than this is listed as stuck. */
  deadlineMs: number;
  /** The trace UI's address of one trace, `{traceId}` standing for its id. */
  traceUiUrl: string;
}

export function adminSagaRoutes(
  app: App,
  options: { db: Pool; sagas: SagaRunner; settings: () => AdminSagaSettings },
): void {
  const { db, sagas, settings } = options;

  /** What the console shows of a saga: the order it is about, that order's timeline and the saga's trace. */
  const presented = (saga: SagaSummary) => {
    const orderId = typeof saga.state.orderId === 'string' ? saga.state.orderId : undefined;
    return {
      id: saga.id,
      type: saga.type,
      status: saga.status,
      nextStep: saga.nextStep,
      failureReason: saga.failureReason,
      leaseOwner: saga.leaseOwner,
      leaseUntil: saga.leaseUntil,
      traceId: saga.traceId,
      createdAt: saga.createdAt,
      updatedAt: saga.updatedAt,
      ...(orderId === undefined ? {} : { orderId, timeline: `/api/orders/${orderId}/timeline` }),
      traceUrl: saga.traceId === null ? null : settings().traceUiUrl.replaceAll('{traceId}', saga.traceId),
    };
  };

  app.get(
    '/api/admin/sagas',
    {
      onRequest: adminsOnly,
      schema: {
        // The admin API is its own contract (docs/api.md, "Admin API"), not part of the public OpenAPI.
        hide: true,
        tags: ['admin'],
        summary: 'Sagas in flight, stuck past the deadline, and recently finished; newest first',
        querystring: StrictObject({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
        }),
      },
    },
    async (request) => {
      const { deadlineMs } = settings();
      const lists = await sagaOverview(db, { deadlineMs, limit: request.query.limit ?? 50 });
      return {
        deadlineMs,
        inFlight: lists.inFlight.map(presented),
        stuck: lists.stuck.map(presented),
        finished: lists.finished.map(presented),
      };
    },
  );

  app.post(
    '/api/admin/sagas/:id/resume',
    {
      onRequest: adminsOnly,
      schema: {
        hide: true,
        tags: ['admin'],
        summary: 'Takes a stuck saga from whoever holds it and drives it again now',
        params: StrictObject({ id: Type.String({ maxLength: 100 }) }),
        response: { 202: Type.Object({ id: Uuid, status: Type.String() }) },
      },
    },
    async (request, reply) => {
      const admin = requireAdmin(request);
      const { id } = request.params;
      const unknown = () => notFound('SAGA_NOT_FOUND', 'No such saga.');
      if (!isUuid(id)) throw unknown();
      const status = await sagas.resume(id, (tx) =>
        recordAdminAction(tx, { actor: admin.sub, action: 'saga.resume', target: id }),
      );
      if (status === undefined) throw unknown();
      if (status === 'COMPLETED' || status === 'COMPENSATED') {
        throw conflict('SAGA_FINISHED', `The saga is ${status}; there is nothing to resume.`);
      }
      return reply.code(202).send({ id, status });
    },
  );
}
