// The fence every worker write passes: the attempt is still running under this very claim
// (same worker, same fence) and its lease has not passed. Plus the two smallest fenced writes,
// each one statement, so they run without a transaction of their own (markStarted: the starts
// coalesce.ts joins, one or many in one statement).
import { sql, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { Claim, Fenced, Renewal } from '../types.js';
import { runPrepared } from './prepared.js';
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
  const { rows: [row] } = await runPrepared(k, k.updateTable('attempts').set({ lease_expires_at: leaseExpiresAt })
    .where((eb) => held(eb, fenceOf(claim, now))).returning('stop_requested'));
  return row ? { ok: true, value: { leaseExpiresAt, stopRequested: row.stop_requested } } : LEASE_LOST;
}

/**
 * Store.markStarted for each claim, in one statement, with the result each would get alone.
 * The first start counts: a repeated call (a worker retrying a write) keeps the original time.
 */
export async function markStarted(k: Kysely<Tables>, claims: readonly Claim[], now: number): Promise<Fenced[]> {
  const { rows } = await runPrepared(k, sql<{ id: string; worker: string; fence: number }>`UPDATE attempts AS a
    SET started_at = coalesce(a.started_at, ${now})
    FROM unnest(${claims.map((c) => c.attemptId)}::text[], ${claims.map((c) => c.workerId)}::text[], ${claims.map((c) => c.fence)}::int[])
      AS v(id, worker, fence)
    WHERE a.id = v.id AND a.state = 'running' AND a.worker = v.worker AND a.fence = v.fence AND a.lease_expires_at > ${now}
    RETURNING a.id, a.worker, a.fence`);
  const kept = new Set(rows.map((r) => `${r.id}\n${r.worker}\n${r.fence}`));
  return claims.map((c) => (kept.has(`${c.attemptId}\n${c.workerId}\n${c.fence}`) ? { ok: true, value: undefined } : LEASE_LOST));
}
