// The notifications service as a package: built by the supervisor and by system tests.
export {
  buildNotifications,
  type Notifications,
  type NotificationsConfig,
  type NotificationsOptions,
} from './app.ts';
export {
  NOTIFICATIONS_GROUP,
  notificationSubscriptions,
  type NotifyUserDependencies,
} from './subscriptions/notify-user.subscription.ts';
export type { Mailer, OutgoingEmail } from './email/mailer.ts';
