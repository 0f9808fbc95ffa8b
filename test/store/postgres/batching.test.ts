// The PostgreSQL store joins concurrent markStarted and finishAttempt calls (a busy worker's)
// into one write each. Joined, every call keeps the meaning it has alone: its own fenced result,
// its own error, the same events as the SQLite store writing them one by one, and no deadlock
// between stores finishing overlapping jobs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AttemptOutcome } from '../../../src/core/states.js';
import type { WharfEvent } from '../../../src/spec/api.js';
import { openPostgresStore, type PostgresStore } from '../../../src/store/postgres/index.js';
import type { Claim, Fenced, Store } from '../../../src/store/types.js';
import { freshDatabase } from '../../infra/postgres.js';
import { Clock, memStore, ok, request, spec } from '../helpers.js';

function brief(events: WharfEvent[]): string[] {
  return events.map((e) => {
    switch (e.type) {
      case 'job_state': return `job ${e.from ?? '-'}→${e.to}`;
      case 'task_state': return `${e.task} ${e.from ?? '-'}→${e.to}`;
      case 'attempt': return `${e.task}#${e.attempt} ${e.state}${e.outcome ? ` ${e.outcome.kind}` : ''}`;
    }
  });
}

const OK = { ok: true, value: undefined };
const LOST = { ok: false, reason: 'lease_lost' };

/**
 * Ten jobs of two independent tasks, four whose first task fails once (a retry) before its
 * dependant: all claimed, then every start and every finish issued at once (`together`) or one
 * by one. Returns each call's result and each job's events, in creation order.
 */
async function scenario(store: Store, clock: Clock, together: boolean): Promise<{ results: Fenced[]; events: string[][] }> {
  const jobs: string[] = [];
  for (let i = 0; i < 10; i++) jobs.push((await store.createJob(spec({ a: {}, b: {} }), { defaultBackend: 'local' })).id);
  for (let i = 0; i < 4; i++) {
    const s = spec({ a: { retries: { limit: 1, backoff: { initial: '0s' } } }, b: { needs: ['a'] } });
    jobs.push((await store.createJob(s, { defaultBackend: 'local' })).id);
  }
  clock.advance(10);
  const claims = await store.claimAttempts(request({ limit: 100, leaseMs: 60_000 }));
  assert.equal(claims.length, 24);
  const retried = new Set(jobs.slice(10));
  const outcome = (c: Claim): AttemptOutcome => (retried.has(c.jobId) ? { kind: 'exited', code: 1 } : { kind: 'succeeded' });
  const first = claims[0] as Claim;
  const stale = { ...(claims[1] as Claim), fence: (claims[1] as Claim).fence + 1 };
  const run = async <T>(calls: (() => Promise<T>)[]): Promise<T[]> => {
    if (together) return Promise.all(calls.map((f) => f()));
    const out: T[] = [];
    for (const f of calls) out.push(await f());
    return out;
  };
  const starts = await run([...claims.map((c) => () => store.markStarted(c)), () => store.markStarted(stale), () => store.markStarted(first)]);
  // Then a stale claim (another fence) and a second finish of the same claim: both refused.
  // (Calls for an attempt already in the batch wait for the next one, which could reorder
  // them among calls for other attempts: so they come last, as they would be applied.)
  const finishes = await run([
    ...claims.map((c) => () => store.finishAttempt(c, outcome(c))),
    () => store.finishAttempt(stale, { kind: 'succeeded' }),
    () => store.finishAttempt(first, { kind: 'succeeded' }),
  ]);
  const events = await Promise.all(jobs.map(async (id) => brief(await store.readEvents(0, 1_000, id))));
  return { results: [...starts, ...finishes], events };
}

describe('postgres batched starts and finishes', () => {
  it('joined calls get what each alone gets: results and events as the SQLite store writing one by one', async () => {
    const clock = new Clock();
    const pgStore = await openPostgresStore({ url: await freshDatabase(), now: clock.now });
    const sqliteClock = new Clock();
    const sqlite = await memStore(sqliteClock);
    try {
      const batched = await scenario(pgStore, clock, true);
      const alone = await scenario(sqlite, sqliteClock, false);
      const expected = [...Array(24).fill(OK), LOST, OK, // starts (a repeat is fine)
        ...Array(24).fill(OK), LOST, LOST]; // finishes
      assert.deepEqual(batched.results, expected);
      assert.deepEqual(alone.results, expected);
      assert.deepEqual(batched.events, alone.events);
      assert.ok(batched.events.slice(10).every((e) => e.includes('a#2 queued')), 'the failed first tasks were retried');
      const { starts, finishes } = pgStore.batchStats();
      assert.ok(starts.batches <= 3, `${starts.batches} writes for ${starts.items} starts`);
      assert.ok(finishes.batches <= 3, `${finishes.batches} writes for ${finishes.items} finishes`);
      assert.equal(finishes.retriedAlone, 0);
    } finally {
      await pgStore.close();
      await sqlite.close();
    }
  });

  it('a lease that passed is refused inside a batch; the first start time stays', async () => {
    const clock = new Clock();
    const store = await openPostgresStore({ url: await freshDatabase(), now: clock.now });
    try {
      for (let i = 0; i < 4; i++) await store.createJob(spec({ t: {} }), { defaultBackend: 'local' });
      const short = await store.claimAttempts(request({ limit: 2, leaseMs: 1_000 }));
      const long = await store.claimAttempts(request({ limit: 2, leaseMs: 60_000 }));
      assert.equal(short.length + long.length, 4);
      const startedAt = clock.t;
      assert.deepEqual(await Promise.all(long.map((c) => store.markStarted(c))), [OK, OK]);
      clock.advance(2_000);
      const all = [...short, ...long];
      assert.deepEqual(await Promise.all(all.map((c) => store.markStarted(c))), [LOST, LOST, OK, OK]);
      const view = await store.getJob((long[0] as Claim).jobId);
      assert.equal(view?.tasks[0]?.attempts[0]?.startedAt, startedAt, 'a repeated start keeps the first time');
      assert.deepEqual(await Promise.all(all.map((c) => store.finishAttempt(c, { kind: 'succeeded' }))), [LOST, LOST, OK, OK]);
    } finally {
      await store.close();
    }
  });

  it('a finish the database refuses fails alone; the rest of its batch is written', async () => {
    const store = await openPostgresStore({ url: await freshDatabase() });
    try {
      for (let i = 0; i < 3; i++) await store.createJob(spec({ t: {} }), { defaultBackend: 'local' });
      const claims = await store.claimAttempts(request({ limit: 3, leaseMs: 60_000 }));
      assert.equal(claims.length, 3);
      // A fence out of the column's range: the database refuses the whole statement.
      const broken = { ...(claims[1] as Claim), fence: 2 ** 40 };
      const settled = await Promise.allSettled([
        store.finishAttempt(claims[0] as Claim, { kind: 'succeeded' }),
        store.finishAttempt(broken, { kind: 'succeeded' }),
        store.finishAttempt(claims[2] as Claim, { kind: 'succeeded' }),
      ]);
      assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.match(String(settled[1]?.status === 'rejected' ? settled[1].reason : ''), /out of range/);
      assert.equal(store.batchStats().finishes.retriedAlone, 3);
      for (const c of [claims[0], claims[2]]) assert.equal((await store.getJob((c as Claim).jobId))?.state, 'succeeded');
      assert.equal((await store.getJob((claims[1] as Claim).jobId))?.state, 'running', 'the refused finish changed nothing');
    } finally {
      await store.close();
    }
  });

  it('two stores finishing in batches while jobs are canceled: no deadlock, every job ends', async () => {
    const url = await freshDatabase();
    const a = await openPostgresStore({ url });
    const b = await openPostgresStore({ url });
    try {
      const jobs: string[] = [];
      for (let i = 0; i < 30; i++) {
        const s = spec({ a: { retries: { limit: 1, backoff: { initial: '0s' } } }, b: { needs: ['a'] }, c: { needs: ['a'] }, d: {}, e: {} });
        jobs.push((await (i % 2 ? a : b).createJob(s, { defaultBackend: 'local' })).id);
      }
      let n = 0;
      const outcome = (): AttemptOutcome => (n++ % 4 === 0 ? { kind: 'exited', code: 1 } : { kind: 'succeeded' });
      const loop = async (claimer: PostgresStore, finisher: PostgresStore, id: string): Promise<void> => {
        for (;;) {
          const claims = await claimer.claimAttempts(request({ workerId: id, limit: 8, leaseMs: 60_000 }));
          if (claims.length === 0) {
            if (await claimer.nextQueuedAt(['local']) === undefined) return;
            await new Promise((r) => setImmediate(r));
            continue;
          }
          // Finished through the other store half of the time: both join finishes of the same jobs.
          for (const r of await Promise.all(claims.map((c) => finisher.finishAttempt(c, outcome())))) ok(r);
        }
      };
      const cancels = (async () => {
        for (const [i, id] of jobs.entries()) {
          if (i % 5 !== 2) continue;
          const r = await (i % 2 ? a : b).cancelJob(id, 'enough');
          if (!r.ok) assert.equal(r.error.code, 'conflict'); // it may have ended already
        }
      })();
      await Promise.all([loop(a, a, 'a1'), loop(a, b, 'a2'), loop(b, b, 'b1'), loop(b, a, 'b2'), cancels]);
      const views = await Promise.all(jobs.map((id) => a.getJob(id)));
      assert.ok(views.every((v) => v && ['succeeded', 'failed', 'canceled'].includes(v.state)), views.map((v) => v?.state).join(','));
      for (const s of [a, b]) {
        const { finishes } = s.batchStats();
        assert.equal(finishes.retriedAlone, 0, 'a batch failed (a deadlock would)');
        assert.ok(finishes.items > finishes.batches, `${finishes.items} finishes in ${finishes.batches} writes: never joined`);
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});
