// Transactions on the pool, and what every write transaction does just before it commits:
// insert its events and logs (whose ids readers page by) under a lock that makes those ids
// commit in order, and NOTIFY other processes of what changed.
//
// The outbox pitfall this avoids: with a plain sequence, a transaction can take id 11 and
// commit before another that took id 10; a reader that saw 11 and moved its cursor past 10
// would never see 10. So every transaction that writes events takes one advisory lock
// (transaction-scoped, so held until its commit has become visible), and only then draws ids:
// ids are drawn and committed in the same order, and any snapshot sees a prefix. Log ids need
// that order only within a job (every log read names a job), so logs lock per job. The locks
// are taken last, after all row locks, so they serialize only the final insert and commit.
// (NOTIFY serializes the commits of notifying transactions anyway, in PreCommit_Notify.)
//
// The events (and the NOTIFY) may instead ride on the transaction's last row write, one round
// trip fewer (eventsTail, used by writeRows): only when that statement waits for no row lock,
// because every row it writes belongs to a job this transaction has locked already (apply.ts),
// so the events lock is still never held while waiting for a row.
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import { formatError } from '../../core/format-error.js';
import type { LogStream, WharfEvent } from '../../spec/api.js';
import { JobCache, type LoadedJob } from '../sqlite/job-cache.js';
import type { StoreChange } from '../types.js';
import { runPrepared } from './prepared.js';
import type { Tables } from './tables.js';

/** The first key of every advisory lock Wharf takes ("WHAR"), so they stay clear of others'. */
export const LOCK_CLASS = 0x57484152;
export const EVENTS_LOCK = 1;
export const MIGRATIONS_LOCK = 2;
export const AUDIT_LOCK = 3;
/** Log locks: this class, and the job id's hash as the second key. */
export const LOGS_LOCK_CLASS = 0x57484c47;
export const CHANNEL = 'wharf_changes';
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
const MAX_PAYLOAD = 7_900;
const MAX_REASON = 1_000;

/** What a write transaction changed, announced once it has committed. */
export class Changes {
  queued = false;
  events = false;
  readonly logs: { jobId: string; task: string }[] = [];
  readonly stops: { attemptId: string; reason: string }[] = [];

  list(): StoreChange[] {
    const out: StoreChange[] = [];
    if (this.queued) out.push({ type: 'attempts_queued' });
    if (this.events) out.push({ type: 'events' });
    for (const l of this.logs) out.push({ type: 'logs', jobId: l.jobId, task: l.task });
    for (const s of this.stops) out.push({ type: 'stop_requested', attemptId: s.attemptId, reason: s.reason });
    return out;
  }
}

export interface NewEventRow { time: number; jobId: string; type: WharfEvent['type']; payload: string }
export interface NewLogRow { jobId: string; task: string; attempt: number; stream: LogStream; time: number; text: string }

/** One write transaction: its connection, its clock reading, what it changed. */
export class Tx {
  readonly changes = new Changes();
  /** Snapshots this transaction read or wrote: they reach the cache only once it commits. */
  readonly seen = new Map<string, LoadedJob>();
  /** Inserted just before the commit (see the top of this file). */
  readonly events: NewEventRow[] = [];
  readonly logs: NewLogRow[] = [];
  /** The events lock is held: events went in early (eventsTail). */
  eventsLocked = false;
  /** The NOTIFY payloads sent already with them. */
  notified: readonly string[] = [];

  constructor(readonly k: Transaction<Tables>, readonly now: number, readonly cache: JobCache, readonly origin: string) {}
}

/**
 * The events so far and the NOTIFY of the changes so far, as CTEs (`lk`, `ev`) to add to the
 * transaction's last row write (see the top of this file); none if there are no events. `after`:
 * the statement's writing CTEs, read before the lock is taken so that it is held as briefly as
 * when it is taken in a statement of its own (a target list is computed in order).
 */
export function eventsTail(tx: Tx, after: readonly string[]): RawBuilder<unknown>[] {
  if (tx.events.length === 0 || tx.logs.length > 0) return [];
  const payloads = notifyPayloads(tx.origin, tx.changes.list());
  const first = [
    ...after.map((name) => sql`(SELECT count(*) FROM ${sql.id(name)})`),
    sql`pg_advisory_xact_lock(${LOCK_CLASS}, ${EVENTS_LOCK})`, ...(payloads.length > 0 ? [notifyAll(payloads)] : []),
  ];
  const rows = tx.events.splice(0);
  tx.eventsLocked = true;
  tx.notified = payloads;
  return [sql`lk AS MATERIALIZED (SELECT ${sql.join(first)})`, sql`ev AS (INSERT INTO events (time, job_id, type, payload)
    SELECT e.time, e.job_id, e.type, e.payload FROM lk, ${eventRows(rows)} ORDER BY e.n)`];
}

function notifyAll(payloads: readonly string[]): RawBuilder<unknown> {
  return sql`(SELECT count(pg_notify(${CHANNEL}, p)) FROM unnest(${payloads}::text[]) AS p)`;
}

function eventRows(rows: readonly NewEventRow[]): RawBuilder<unknown> {
  return sql`unnest(${rows.map((r) => r.time)}::bigint[], ${rows.map((r) => r.jobId)}::text[],
                       ${rows.map((r) => r.type)}::text[], ${rows.map((r) => r.payload)}::text[])
      WITH ORDINALITY AS e(time, job_id, type, payload, n)`;
}

/** PostgreSQL text cannot hold U+0000; free text from users goes in with it replaced. */
export function pgText(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s;
}

/** Change lists as NOTIFY payloads, each under the size limit. */
export function notifyPayloads(origin: string, changes: readonly StoreChange[]): string[] {
  const out: string[] = [];
  let batch: StoreChange[] = [];
  const encode = (c: StoreChange[]): string => JSON.stringify({ o: origin, c });
  for (const change of changes) {
    const c = change.type === 'stop_requested' && change.reason.length > MAX_REASON
      ? { ...change, reason: change.reason.slice(0, MAX_REASON) } : change;
    if (batch.length > 0 && Buffer.byteLength(encode([...batch, c])) > MAX_PAYLOAD) {
      out.push(encode(batch));
      batch = [];
    }
    batch.push(c);
  }
  if (batch.length > 0) out.push(encode(batch));
  return out;
}

export class PgDb {
  readonly jobs = new JobCache();
  /** Names this store's notifications, so it ignores its own (it told its listeners already). */
  readonly origin = randomUUID();
  private readonly listeners = new Set<(c: StoreChange) => void>();

  constructor(readonly k: Kysely<Tables>, readonly clock: () => number) {}

  /** READ COMMITTED; writers serialize on the rows they lock (a job's row before its attempts). */
  async write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const now = this.clock();
    let done: Tx | undefined;
    const result = await this.k.transaction().execute(async (trx) => {
      const tx = new Tx(trx, now, this.jobs, this.origin);
      const value = await fn(tx);
      await this.beforeCommit(tx);
      done = tx;
      return value;
    });
    if (done) {
      // After the commit only: a rolled-back transaction's snapshots never match the database.
      for (const job of done.seen.values()) this.jobs.set(job);
      this.emit(done.changes.list());
    }
    return result;
  }

  /** Several reads from one snapshot. */
  read<T>(fn: (k: Kysely<Tables>) => Promise<T>): Promise<T> {
    return this.k.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(fn);
  }

  private async beforeCommit(tx: Tx): Promise<void> {
    const payloads = notifyPayloads(this.origin, tx.changes.list());
    // Logs after the events lock would take the locks out of their order (below).
    if (tx.eventsLocked && tx.logs.length > 0) throw new Error('logs written after the events in one transaction');
    const sent = payloads.length === tx.notified.length && payloads.every((p, i) => p === tx.notified[i]);
    // NOTIFY rides along with the first statement sent here (it takes effect at the commit).
    let notify: RawBuilder<unknown> | undefined = payloads.length > 0 && !sent ? notifyAll(payloads) : undefined;
    const take = (locks: RawBuilder<unknown>[]): RawBuilder<unknown>[] => {
      const all = notify ? [...locks, notify] : locks;
      notify = undefined;
      return all;
    };
    // Log locks before the events lock, job ids sorted: one order for every transaction.
    if (tx.logs.length > 0) {
      const jobs = [...new Set(tx.logs.map((l) => l.jobId))].sort();
      await insertLogs(tx.k, tx.logs, take(jobs.map((id) => sql`pg_advisory_xact_lock(${LOGS_LOCK_CLASS}, hashtext(${id}))`)));
    }
    if (tx.events.length > 0) await insertEvents(tx.k, tx.events, take([sql`pg_advisory_xact_lock(${LOCK_CLASS}, ${EVENTS_LOCK})`]));
    const rest = take([]);
    if (rest.length > 0) await sql`SELECT ${sql.join(rest)}`.execute(tx.k);
  }

  onChange(listener: (c: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  emit(changes: readonly StoreChange[]): void {
    for (const c of changes) {
      for (const l of [...this.listeners]) {
        // A listener's failure is its own: the write has committed and others still need the nudge.
        try {
          l(c);
        } catch (e) {
          process.emitWarning(`a store change listener failed: ${formatError(e)}`);
        }
      }
    }
  }
}

// Rows go in as arrays (a few parameters however many rows), in the order given. `first` (the
// lock) is a materialized CTE joined to the rows, so it runs before the first row is produced,
// and the ids (nextval, computed above the join) are drawn only after it, row by row in order.
// Of a fixed shape (the lock, and NOTIFY or not), so it is sent by name.
async function insertEvents(k: Kysely<Tables>, rows: readonly NewEventRow[], first: RawBuilder<unknown>[]): Promise<void> {
  await runPrepared(k, sql`WITH first AS MATERIALIZED (SELECT ${sql.join(first)})
    INSERT INTO events (time, job_id, type, payload)
    SELECT e.time, e.job_id, e.type, e.payload FROM first, ${eventRows(rows)} ORDER BY e.n`);
}

// Log text is bytea (UTF-8): process output may hold U+0000, which PostgreSQL text cannot.
async function insertLogs(k: Kysely<Tables>, rows: readonly NewLogRow[], first: RawBuilder<unknown>[]): Promise<void> {
  await sql`WITH first AS MATERIALIZED (SELECT ${sql.join(first)})
    INSERT INTO logs (job_id, task, attempt, stream, time, text)
    SELECT l.job_id, l.task, l.attempt, l.stream, l.time, l.text
    FROM first, unnest(${rows.map((r) => r.jobId)}::text[], ${rows.map((r) => r.task)}::text[], ${rows.map((r) => r.attempt)}::int[],
                       ${rows.map((r) => r.stream)}::text[], ${rows.map((r) => r.time)}::bigint[],
                       ${rows.map((r) => Buffer.from(r.text, 'utf8'))}::bytea[])
      WITH ORDINALITY AS l(job_id, task, attempt, stream, time, text, n)
    ORDER BY l.n`.execute(k);
}
