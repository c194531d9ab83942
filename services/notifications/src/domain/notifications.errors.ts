// The notifications service's stable error codes, as plain data: the HTTP layer turns a rejection into a problem.
export type NotificationsErrorCode = 'INVALID_CURSOR';

export interface Rejection {
  readonly status: 400;
  readonly code: NotificationsErrorCode;
  readonly detail: string;
}

export const invalidCursor = (): Rejection => ({
  status: 400,
  code: 'INVALID_CURSOR',
  detail: 'The cursor is not one this service issued; start again without it.',
});
