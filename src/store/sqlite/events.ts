// The event log: appended inside the transaction that made the change, read in id order.
import type { WharfEvent } from '../../spec/api.js';
import { Query, type Sql, type Tx } from './db.js';

type Distribute<T> = T extends WharfEvent ? Omit<T, 'id' | 'time' | 'jobId'> : never;
/** An event as written: the store fills in id, time and job. */
export type NewEvent = Distribute<WharfEvent>;

const INSERT = new Query((k, $: { time: number; jobId: string; type: WharfEvent['type']; payload: string }) =>
  k.insertInto('events').values({ time: $.time, job_id: $.jobId, type: $.type, payload: $.payload }));

export function addEvent(tx: Tx, jobId: string, e: NewEvent): void {
  const { type, ...payload } = e;
  tx.sql.run(INSERT, { time: tx.now, jobId, type, payload: JSON.stringify(payload) });
  tx.changes.events = true;
}

export function latestEventId(sql: Sql): number {
  return sql.get(sql.k.selectFrom('events').select((eb) => eb.fn.max('id').as('id')))?.id ?? 0;
}

export function readEvents(sql: Sql, after: number, limit: number, jobId?: string): WharfEvent[] {
  let q = sql.k.selectFrom('events').select(['id', 'time', 'type', 'job_id', 'payload'])
    .where('id', '>', after).orderBy('id').limit(Math.max(1, limit));
  if (jobId !== undefined) q = q.where('job_id', '=', jobId);
  // The payload was written by addEvent from a typed event, so it completes one again.
  return sql.all(q).map((r) => ({ id: r.id, time: r.time, type: r.type, jobId: r.job_id, ...JSON.parse(r.payload) as object }) as WharfEvent);
}
