// Public user endpoints: register, read and rename yourself, read a user (yourself, or anyone as admin).
import { isUuid } from '@souk/kit';
import { notFound, requireUser, unauthorized, usersOnly, type App } from '@souk/chassis';
import { Problem, RegisterUser, StrictObject, UpdateProfile, User } from '@souk/contracts';
import Type from 'typebox';
import type { Accounts } from '../accounts.ts';
import { UserRepository, publicView } from '../data/user.repository.ts';
import type { Pool } from '@souk/chassis';

const userNotFound = () => notFound('USER_NOT_FOUND', 'No such user.');

export function userRoutes(app: App, accounts: Accounts, db: Pool): void {
  const users = new UserRepository(db);

  app.post(
    '/api/users',
    { schema: { tags: ['users'], body: RegisterUser, response: { 201: User, 400: Problem, 409: Problem } } },
    async (request, reply) => {
      const user = await accounts.register(request.body);
      return reply.status(201).header('location', `/api/users/${user.id}`).send(user);
    },
  );

  app.get(
    '/api/users/me',
    { schema: { tags: ['users'], response: { 200: User, 401: Problem } } },
    async (request) => {
      const user = await users.findById(requireUser(request).sub);
      if (user === undefined) throw unauthorized('The account no longer exists.');
      return publicView(user);
    },
  );

  app.patch(
    '/api/users/me',
    {
      onRequest: usersOnly,
      schema: { tags: ['users'], body: UpdateProfile, response: { 200: User, 400: Problem, 401: Problem } },
    },
    async (request) => {
      const user = await users.rename(requireUser(request).sub, request.body.name.trim());
      if (user === undefined) throw unauthorized('The account no longer exists.');
      return publicView(user);
    },
  );

  app.get(
    '/api/users/:id',
    {
      schema: {
        tags: ['users'],
        params: StrictObject({ id: Type.String({ maxLength: 100 }) }),
        response: { 200: User, 401: Problem, 404: Problem },
      },
    },
    async (request) => {
      const caller = requireUser(request);
      const { id } = request.params;
      // Another user's profile answers exactly like a missing one: ids are not probed.
      if (!isUuid(id) || (caller.sub !== id && caller.role !== 'admin')) throw userNotFound();
      const user = await users.findById(id);
      if (user === undefined) throw userNotFound();
      return publicView(user);
    },
  );
}
