// The fence every worker write passes: the attempt is still running under this very claim
// (same worker, same fence) and its lease has not passed. Plus the two smallest fenced writes.
import type { ExpressionBuilder } from 'kysely';
import type { Claim, Fenced, Renewal } from '../types.js';
import { Query, type Tx } from './db.js';
import type { Tables } from './tables.js';

export const LEASE_LOST = { ok: false, reason: 'lease_lost' } as const;

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

const RENEW = new Query((k, $: Fence & { lease: number }) =>
  k.updateTable('attempts').set({ lease_expires_at: $.lease }).where((eb) => held(eb, $)).returning('stop_requested'));

export function renewLease(tx: Tx, claim: Claim, leaseMs: number): Fenced<Renewal> {
  const leaseExpiresAt = tx.now + leaseMs;
  const row = tx.sql.get(RENEW, { ...fenceOf(claim, tx.now), lease: leaseExpiresAt });
  return row ? { ok: true, value: { leaseExpiresAt, stopRequested: row.stop_requested } } : LEASE_LOST;
}

// The first start counts: a repeated call (a worker retrying a write) keeps the original time.
const START = new Query((k, $: Fence) =>
  k.updateTable('attempts').set((eb) => ({ started_at: eb.fn.coalesce('started_at', eb.val($.now)) })).where((eb) => held(eb, $)));

export function markStarted(tx: Tx, claim: Claim): Fenced {
  return tx.sql.run(START, fenceOf(claim, tx.now)) > 0 ? { ok: true, value: undefined } : LEASE_LOST;
}
