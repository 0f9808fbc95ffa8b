// Runs Kysely-built queries synchronously on the better-sqlite3 connection, in transactions
// that never span an await.
//
// Why synchronous: Kysely's own transactions await between statements. Two connections in one
// process (a server and an embedded CLI, or tests) would then deadlock: one holds the write lock
// across an await while the other busy-waits for it inside SQLite, blocking the event loop. A
// better-sqlite3 transaction runs start to commit in one turn, so it holds the lock for
// microseconds and nothing in-process interleaves with it.
import type Database from 'better-sqlite3';
import { formatError } from '../../core/format-error.js';
import type { Compilable, Kysely } from 'kysely';
import type { StoreChange } from '../types.js';
import { JobCache, type LoadedJob } from './job-cache.js';
import type { Tables } from './tables.js';

type Statement = Database.Statement<unknown[], unknown>;

/** Stands in for an argument while a Query is compiled. */
class Slot {
  constructor(readonly name: string) {}
}

/**
 * A query of fixed shape on the hot paths: Kysely builds and compiles it once, with `$.name`
 * marking where each argument goes; later runs only bind arguments. (Building a query costs
 * more than SQLite takes to run one of these.)
 */
export class Query<A extends object, O> {
  private compiled: { sql: string; slots: readonly unknown[] } | undefined;

  constructor(private readonly build: (k: Kysely<Tables>, $: A) => Compilable<O>) {}

  bind(k: Kysely<Tables>, args: A): { sql: string; params: unknown[] } {
    let c = this.compiled;
    if (c === undefined) {
      // Each `$.name` read yields a Slot, which Kysely passes through as an ordinary value.
      const $ = new Proxy({}, { get: (_t, name) => new Slot(String(name)) }) as A;
      const q = this.build(k, $).compile();
      c = this.compiled = { sql: q.sql, slots: q.parameters };
    }
    return { sql: c.sql, params: c.slots.map((s) => (s instanceof Slot ? args[s.name as keyof A] : s)) };
  }
}

/** Statements cached by SQL text; the cache is bounded since IN lists vary in length. */
export class Sql {
  private readonly statements = new Map<string, Statement>();

  constructor(readonly raw: Database.Database, readonly k: Kysely<Tables>) {}

  prepare(text: string): Statement {
    let s = this.statements.get(text);
    if (s === undefined) {
      if (this.statements.size >= 500) this.statements.clear();
      s = this.raw.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }

  all<O>(q: Compilable<O>): O[];
  all<A extends object, O>(q: Query<A, O>, args: A): O[];
  all<A extends object, O>(q: Compilable<O> | Query<A, O>, args?: A): O[] {
    const c = this.compile(q, args);
    return this.prepare(c.sql).all(...c.params) as O[];
  }

  get<O>(q: Compilable<O>): O | undefined;
  get<A extends object, O>(q: Query<A, O>, args: A): O | undefined;
  get<A extends object, O>(q: Compilable<O> | Query<A, O>, args?: A): O | undefined {
    const c = this.compile(q, args);
    return this.prepare(c.sql).get(...c.params) as O | undefined;
  }

  /** For statements without RETURNING; the number of rows changed. */
  run(q: Compilable<unknown>): number;
  run<A extends object>(q: Query<A, unknown>, args: A): number;
  run<A extends object>(q: Compilable<unknown> | Query<A, unknown>, args?: A): number {
    const c = this.compile(q, args);
    return this.prepare(c.sql).run(...c.params).changes;
  }

  private compile<A extends object, O>(q: Compilable<O> | Query<A, O>, args: A | undefined): { sql: string; params: readonly unknown[] } {
    if (q instanceof Query) {
      if (args === undefined) throw new Error('a prepared query needs its arguments');
      return q.bind(this.k, args);
    }
    const c = q.compile();
    return { sql: c.sql, params: c.parameters };
  }
}

/** What a write transaction changed, announced to listeners once it has committed. */
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

/** One write transaction: its statements, its clock reading, what it changed. */
export interface Tx {
  readonly sql: Sql;
  readonly k: Kysely<Tables>;
  readonly now: number;
  readonly changes: Changes;
  /** Snapshots committed by earlier transactions (see apply.ts's loadJob). */
  readonly cache: JobCache;
  /** Snapshots this transaction read or wrote: they reach the cache only once it commits. */
  readonly seen: Map<string, LoadedJob>;
}

type Body = (tx: Tx) => unknown;

export class Db {
  readonly sql: Sql;
  readonly jobs = new JobCache();
  private readonly listeners = new Set<(c: StoreChange) => void>();
  private readonly txn: Database.Transaction<(fn: Body, tx: Tx) => unknown>;
  private readonly readTxn: Database.Transaction<(fn: (sql: Sql) => unknown) => unknown>;

  constructor(readonly raw: Database.Database, readonly k: Kysely<Tables>, readonly clock: () => number) {
    this.sql = new Sql(raw, k);
    // Built once: better-sqlite3 wraps a function per transaction() call.
    this.txn = raw.transaction((fn: Body, tx: Tx) => fn(tx));
    this.readTxn = raw.transaction((fn: (sql: Sql) => unknown) => fn(this.sql));
  }

  /** BEGIN IMMEDIATE: the write lock is held before the first read, so reads are current. */
  write<T>(fn: (tx: Tx) => T): T {
    const tx: Tx = { sql: this.sql, k: this.k, now: this.clock(), changes: new Changes(), cache: this.jobs, seen: new Map() };
    const result = this.txn.immediate(fn, tx) as T;
    // After the commit only: a rolled-back transaction's snapshots never match the database.
    for (const job of tx.seen.values()) this.jobs.set(job);
    this.emit(tx.changes.list());
    return result;
  }

  /** Several reads from one snapshot (WAL readers never block writers). */
  read<T>(fn: (sql: Sql) => T): T {
    return this.readTxn.deferred(fn) as T;
  }

  onChange(listener: (c: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  private emit(changes: StoreChange[]): void {
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
