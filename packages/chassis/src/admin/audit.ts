// The admin audit: each admin action a service performs is recorded in its own database, who, what and when,
// in the transaction of the action where it has one.
import type { Queryable } from '../db.ts';

export const ADMIN_MIGRATIONS = new URL('./migrations/', import.meta.url);

export interface AdminAction {
  /** The admin's user id. */
  actor: string;
  /** What was done, e.g. `config.apply`, `saga.resume`, `messaging.replay`. */
  action: string;
  /** What it was done to, e.g. a saga id or `config/orders`. */
  target: string;
  detail?: Record<string, unknown>;
}

export interface AuditEntry extends Required<AdminAction> {
  id: string;
  service: string;
  at: string;
}

export async function recordAdminAction(db: Queryable, action: AdminAction): Promise<void> {
  await db.query(`INSERT INTO admin_audit (actor, action, target, detail) VALUES ($1, $2, $3, $4)`, [
    action.actor,
    action.action,
    action.target,
    JSON.stringify(action.detail ?? {}),
  ]);
}

/** The newest entries first. */
export async function listAdminActions(db: Queryable, service: string, limit: number): Promise<AuditEntry[]> {
  const { rows } = await db.query<{
    id: string;
    at: Date;
    actor: string;
    action: string;
    target: string;
    detail: Record<string, unknown>;
  }>(`SELECT id, at, actor, action, target, detail FROM admin_audit ORDER BY at DESC, id DESC LIMIT $1`, [
    limit,
  ]);
  return rows.map((row) => ({ ...row, id: String(row.id), service, at: row.at.toISOString() }));
}
