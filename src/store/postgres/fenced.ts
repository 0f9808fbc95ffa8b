// The fence every worker write passes: the attempt is still running under this very claim
// (same worker, same fence) and its lease has not passed. Plus the two smallest fenced writes,
// each one statement, so they run without a transaction of their own.
import { sql, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { Claim, Fenced, Renewal } from '../types.js';
import type { Tables } from './tables.js';

export const LEASE_LOST = { ok: false, reason: 'lease_lost' } as const;

/** A literal state, so the planner can match the partial index (see migrations/0001_init.ts). */
export const RUNNING = sql<SqlBool>`state = 'running'`;

export interface Fence {
  id: string;
  worker: string;
  fence: number;
  now: number;
}

export function fenceOf(c: Claim, now: number): Fence {
  return { id: c.attemptId, worker: c.workerId, fence: c.fence, now };
}

export function held(eb: ExpressionBuilder<Tables, 'attempts'>, $: Fence) {
  return eb.and([
    eb('id', '=', $.id),
    eb('state', '=', 'running'),
    eb('worker', '=', $.worker),
    eb('fence', '=', $.fence),
    eb('lease_expires_at', '>', $.now),
  ]);
}

export async function renewLease(k: Kysely<Tables>, claim: Claim, leaseMs: number, now: number): Promise<Fenced<Renewal>> {
  const leaseExpiresAt = now + leaseMs;
  const row = await k.updateTable('attempts').set({ lease_expires_at: leaseExpiresAt })
    .where((eb) => held(eb, fenceOf(claim, now))).returning('stop_requested').executeTakeFirst();
  return row ? { ok: true, value: { leaseExpiresAt, stopRequested: row.stop_requested } } : LEASE_LOST;
}

// The first start counts: a repeated call (a worker retrying a write) keeps the original time.
export async function markStarted(k: Kysely<Tables>, claim: Claim, now: number): Promise<Fenced> {
  const r = await k.updateTable('attempts').set((eb) => ({ started_at: eb.fn.coalesce('started_at', eb.val(now)) }))
    .where((eb) => held(eb, fenceOf(claim, now))).executeTakeFirst();
  return r.numUpdatedRows > 0n ? { ok: true, value: undefined } : LEASE_LOST;
}
