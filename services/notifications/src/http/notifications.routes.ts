// A user's own notifications, newest first, a page at a time.
import { ProblemError, requireUser, usersOnly, type App } from '@souk/chassis';
import { Notification, Page, Problem, StrictObject } from '@souk/contracts';
import Type from 'typebox';
import type { NotificationsRepository } from '../data/notifications.repository.ts';
import {
  decodeNotificationCursor,
  encodeNotificationCursor,
  isUuid,
} from '../domain/notification-page.model.ts';
import { invalidCursor, type Rejection } from '../domain/notifications.errors.ts';

const NotificationQuery = StrictObject({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 2048, description: 'opaque; from a previous page' })),
});

const NotificationPage = Page(Notification);

const toProblem = (rejection: Rejection): ProblemError =>
  new ProblemError(rejection.status, rejection.code, rejection.detail);

export function registerNotificationRoutes(app: App, notifications: NotificationsRepository): void {
  app.get(
    '/api/notifications',
    {
      onRequest: usersOnly,
      schema: {
        summary: 'Your notifications, newest first',
        querystring: NotificationQuery,
        response: { 200: NotificationPage, 400: Problem, 401: Problem },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const { limit = 20, cursor } = request.query;
      const after = cursor === undefined ? undefined : decodeNotificationCursor(cursor);
      if (cursor !== undefined && after === undefined) throw toProblem(invalidCursor());
      // Every user id is a UUID; any other subject has no notifications here.
      if (!isUuid(user.sub)) return { items: [] };
      const page = await notifications.page({ userId: user.sub, limit, after });
      return page.next === undefined
        ? { items: page.items }
        : { items: page.items, nextCursor: encodeNotificationCursor(page.next) };
    },
  );
}
