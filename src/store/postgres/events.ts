// The event log: events are collected by the transaction that made the change and inserted
// just before it commits (db.ts explains why there); read in id order.
import type { Kysely } from 'kysely';
import type { WharfEvent } from '../../spec/api.js';
import type { NewEvent } from '../sqlite/events.js';
import type { Tx } from './db.js';
import type { Tables } from './tables.js';

export type { NewEvent };

export function addEvent(tx: Tx, jobId: string, e: NewEvent): void {
  const { type, ...payload } = e;
  tx.events.push({ time: tx.now, jobId, type, payload: JSON.stringify(payload) });
  tx.changes.events = true;
}

export async function latestEventId(k: Kysely<Tables>): Promise<number> {
  const row = await k.selectFrom('events').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  return row?.id ?? 0;
}

export async function readEvents(k: Kysely<Tables>, after: number, limit: number, jobId?: string): Promise<WharfEvent[]> {
  let q = k.selectFrom('events').select(['id', 'time', 'type', 'job_id', 'payload'])
    .where('id', '>', after).orderBy('id').limit(Math.max(1, Math.floor(limit)));
  if (jobId !== undefined) q = q.where('job_id', '=', jobId);
  // The payload was written by addEvent from a typed event, so it completes one again.
  const rows = await q.execute();
  return rows.map((r) => ({ id: r.id, time: r.time, type: r.type, jobId: r.job_id, ...JSON.parse(r.payload) as object }) as WharfEvent);
}
