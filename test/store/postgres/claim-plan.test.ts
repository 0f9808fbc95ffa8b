// The claim's plan on PostgreSQL: from the very first job (no ANALYZE has run), the exact claim
// SQL reads the partial index attempts_to_claim in claim order and stops at the limit: no
// sequential scan of attempts, and no sort of more than `limit` rows per backend, however many
// attempts have ended or wait; and the rest of the one claim statement (jobs locked, attempts
// taken, plans read) reaches every row by key, under the database's default planner costs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { CLAIM_JOB_SQL, CLAIM_SQL, takeSql } from '../../../src/store/postgres/claim.js';
import { openPostgresStore } from '../../../src/store/postgres/index.js';
import { freshDatabase } from '../../infra/postgres.js';
import { Clock, spec } from '../helpers.js';

interface PlanNode { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; Plans?: PlanNode[] }

function nodes(n: PlanNode): PlanNode[] {
  return [n, ...(n.Plans ?? []).flatMap(nodes)];
}

/** Scans of attempts that feed a Sort with no Limit in between: the sort would see every row they read. */
function unlimitedSorts(n: PlanNode, sorting = false): PlanNode[] {
  if (n['Node Type'] === 'Sort') sorting = true;
  else if (n['Node Type'] === 'Limit') sorting = false;
  const here = sorting && n['Relation Name'] === 'attempts' ? [n] : [];
  return [...here, ...(n.Plans ?? []).flatMap((c) => unlimitedSorts(c, sorting))];
}

const ENDED = 5_000;

describe('postgres claim plan', () => {
  it('the claim reads the partial index in order on a never-analyzed table of mostly ended attempts', async () => {
    const url = await freshDatabase();
    const clock = new Clock();
    const store = await openPostgresStore({ url, now: clock.now });
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      // Nothing may analyze the tables during the test: the plan must hold without statistics.
      for (const t of ['jobs', 'tasks', 'attempts']) await c.query(`ALTER TABLE ${t} SET (autovacuum_enabled = off)`);
      // Thousands of ended attempts (older than any queued one), written directly.
      await c.query(`INSERT INTO jobs (id, name, labels, state, spec, created_at, updated_at)
        SELECT 'jold' || lpad(i::text, 8, '0'), 'old', '{}', 'succeeded', '{}', 0, 0 FROM generate_series(1, $1::int) i`, [ENDED]);
      await c.query(`INSERT INTO tasks (job_id, name, position, state, needs, retry, plan, backend)
        SELECT 'jold' || lpad(i::text, 8, '0'), 't', 0, 'succeeded', '[]', '{}', '{}', 'local' FROM generate_series(1, $1::int) i`, [ENDED]);
      await c.query(`INSERT INTO attempts (id, job_id, task, number, backend, state, queued_at, not_before, worker, fence, ended_at, outcome)
        SELECT 'jold' || lpad(i::text, 8, '0') || '-t-1', 'jold' || lpad(i::text, 8, '0'), 't', 1, 'local', 'ended', i, i, 'w', 1, i,
          '{"kind":"succeeded"}' FROM generate_series(1, $1::int) i`, [ENDED]);
      // Some queued attempts, through the store.
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) {
        ids.push((await store.createJob(spec({ t: {}, d: { backend: 'docker' } }), { defaultBackend: 'local' })).id);
        clock.advance(1);
      }
      const stats = await c.query(`SELECT last_analyze, last_autoanalyze FROM pg_stat_user_tables WHERE relname = 'attempts'`);
      assert.deepEqual(stats.rows, [{ last_analyze: null, last_autoanalyze: null }], 'never analyzed');

      const explain = async (text: string, params: unknown[]): Promise<PlanNode> => {
        const r = await c.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${text}`, params);
        const plan = r.rows[0]?.['QUERY PLAN'][0].Plan;
        assert.ok(plan);
        return plan;
      };
      for (const backends of [['local'], ['local', 'docker']]) {
        const plan = await explain(CLAIM_SQL, [backends, clock.t, 20]);
        const all = nodes(plan);
        const summary = all.map((n) => `${n['Node Type']}${n['Index Name'] ? ` ${n['Index Name']}` : ''}`).join(' / ');
        const scans = all.filter((n) => n['Relation Name'] === 'attempts');
        assert.ok(scans.length > 0 && scans.every((n) => n['Node Type'] === 'Index Scan' && n['Index Name'] === 'attempts_to_claim'),
          `${backends.join('+')}: attempts not read through attempts_to_claim alone: ${summary}`);
        assert.deepEqual(unlimitedSorts(plan), [], `${backends.join('+')}: a sort over an unlimited scan: ${summary}`);
        assert.ok(all.some((n) => n['Node Type'] === 'LockRows'), summary);

        // The whole statement as run (its final sort is of the rows taken): the pick above, then
        // only key lookups; planned for these parameters, and once for any (as the store runs it).
        const custom = nodes(await explain(takeSql(CLAIM_SQL), [backends, clock.t, 20, 'w', clock.t + 1_000]));
        await c.query(`PREPARE take(text[], bigint, int, text, bigint) AS ${takeSql(CLAIM_SQL)}`);
        await c.query('SET plan_cache_mode = force_generic_plan');
        const generic = nodes(await explain(`EXECUTE take('{${backends.join(',')}}', ${clock.t}, 20, 'w', ${clock.t + 1_000})`, []));
        await c.query('RESET plan_cache_mode');
        await c.query('DEALLOCATE take');
        for (const [how, take] of [['custom', custom], ['generic', generic]] as const) {
          const takeSummary = take.map((n) => `${n['Node Type']}${n['Relation Name'] ? ` ${n['Relation Name']}` : ''}${n['Index Name'] ? ` ${n['Index Name']}` : ''}`).join(' / ');
          assert.ok(!take.some((n) => n['Node Type'] === 'Seq Scan'), `${backends.join('+')}, ${how} plan: a sequential scan in the claim statement: ${takeSummary}`);
          const indexes = new Set(take.flatMap((n) => n['Index Name'] ?? []));
          assert.deepEqual([...indexes].sort(), ['attempts_pkey', 'attempts_to_claim', 'jobs_id_key', 'tasks_pkey'], `${how} plan: ${takeSummary}`);
        }
      }
      // One job's attempts (a CLI running its own job): through an index too.
      const one = nodes(await explain(takeSql(CLAIM_JOB_SQL), [['local'], clock.t, 20, 'w', clock.t + 1_000, ids[0]]));
      assert.ok(!one.some((n) => n['Node Type'] === 'Seq Scan'), 'one job');
      // nextQueuedAt reads the same index.
      assert.equal(await store.nextQueuedAt(['local', 'docker']), clock.t - 30);

      // And the claim takes the queued attempts in that order.
      const claims = await store.claimAttempts({ workerId: 'w', backends: ['local'], leaseMs: 1_000, limit: 5 });
      assert.deepEqual(claims.map((x) => x.jobId), ids.slice(0, 5));
    } finally {
      await c.end();
      await store.close();
    }
  });
});
