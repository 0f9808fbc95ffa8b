// Named statements for the hot path (claims, starts, finishes, their rows and events): on its
// first use on a connection PostgreSQL parses and plans it, and afterwards only binds and runs
// it. Planning the claim's statement alone costs more than running it.
//
// Planned for any parameters (plan_cache_mode, set on each of the pool's connections; it
// changes nothing for unnamed statements): left to choose, PostgreSQL plans the claim afresh on
// every call, its estimate for a known LIMIT always beating the generic plan's. But a plan is
// made for the tables' sizes at the time, and on a table of a few hundred rows a sequential
// scan is the cheapest way to a batch of rows; kept while the table grows, it would cost more
// and more per call until autovacuum's next ANALYZE. So each connection drops its plans (DISCARD
// PLANS, the statements stay prepared) every REPLAN_EVERY named calls: a few plans per hundred
// calls, and never a stale one for long while tables grow (they grow with the calls). An idle
// connection keeps its plans (an idle worker's first claim is not slowed), up to REPLAN_MS.
//
// Only statements marked by `prepared()` are named: texts of a fixed shape, so each connection
// keeps a few dozen at most (a text that varies with its input would make a new one per call).
// They name their result columns (no `*`), so a migration adding a column never changes a
// prepared statement's result type, which PostgreSQL would refuse. The pool's other queries are
// sent unnamed, as before. Off (`preparedStatements: false`) for poolers that cannot keep
// named statements per client (PgBouncer in transaction mode before 1.21).
import { createHash } from 'node:crypto';
import type {
  Compilable, CompiledQuery, Kysely, PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult, QueryResult, RawBuilder,
} from 'kysely';
import type pg from 'pg';
import type { Tables } from './tables.js';

const REPLAN_EVERY = 50;
const REPLAN_MS = 600_000;
/** More distinct texts than this means one varies with its input: the rest go unnamed. */
const MAX_NAMED = 100;
const names = new Map<string, string>();

/** Marks a statement to be sent by name (see the top of this file). */
export function prepared<R>(q: CompiledQuery<R>): CompiledQuery<R> {
  if (!names.has(q.sql) && names.size < MAX_NAMED) names.set(q.sql, `wharf_${createHash('sha1').update(q.sql).digest('hex').slice(0, 24)}`);
  return q;
}

/** Runs a statement of a fixed shape by name. */
export function runPrepared<R>(k: Kysely<Tables>, q: RawBuilder<R> | Compilable<R>): Promise<QueryResult<R>> {
  return k.executeQuery(prepared('isRawBuilder' in q ? q.compile(k) : q.compile()));
}

/** Named calls on a connection since its plans were made. */
interface Plans { calls: number; since: number }

class NamingClient implements PostgresPoolClient {
  constructor(private readonly client: pg.PoolClient, private readonly plans: Plans) {}

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(q: string | PostgresCursor<R>, parameters?: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof q !== 'string') return (this.client as unknown as PostgresPoolClient).query(q);
    const values = [...(parameters ?? [])];
    const name = names.get(q);
    if (name !== undefined) this.plans.calls++;
    const r = name === undefined ? this.client.query(q, values) : this.client.query({ name, text: q, values });
    return r as unknown as Promise<PostgresQueryResult<R>>;
  }

  release(): void {
    this.client.release();
  }
}

/** The pool as Kysely sees it: clients that send marked statements by name (see the top of this file). */
export function namingPool(pool: pg.Pool): PostgresPool {
  const plans = new WeakMap<pg.PoolClient, Plans>();
  // First on each new connection: queued before any other query on it.
  pool.on('connect', (client) => { void client.query('SET plan_cache_mode = force_generic_plan').catch(() => undefined); });
  return {
    connect: async () => {
      const client = await pool.connect();
      let p = plans.get(client);
      if (!p) plans.set(client, p = { calls: 0, since: Date.now() });
      if (p.calls >= REPLAN_EVERY || (p.calls > 0 && Date.now() - p.since >= REPLAN_MS)) {
        // Between transactions (a connection is checked out for a whole one); runs before what follows.
        void client.query('DISCARD PLANS').catch(() => undefined);
        p.calls = 0;
        p.since = Date.now();
      }
      return new NamingClient(client, p);
    },
    end: () => pool.end(),
  };
}
