// The in-memory job snapshots (src/store/sqlite/job-cache.ts): an event costs the same on a
// job of thousands of tasks as on a job of one, and what another process wrote, or a
// transaction that rolled back, is never served from memory.
import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { jobSnapshot } from '../../src/core/job-machine.js';
import type { AttemptOutcome } from '../../src/core/states.js';
import type { TaskSpec } from '../../src/spec/schema.js';
import type { Claim } from '../../src/store/types.js';
import { JobCache, type LoadedJob } from '../../src/store/sqlite/job-cache.js';
import { claimAll, Clock, dialects, memStore, ok, request, spec, tempDir, type TestStore } from './helpers.js';

type Rows = (...params: unknown[]) => unknown;
interface StatementMethods { all: Rows; get: Rows; iterate: Rows }

/**
 * Counts the task rows every better-sqlite3 statement returns (all connections in this
 * process share the Statement prototype), independently of the store's own counters.
 */
function countTaskRows(): { rows: () => number; restore: () => void } {
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as StatementMethods;
  probe.close();
  const original = { all: proto.all, get: proto.get, iterate: proto.iterate };
  let rows = 0;
  const readsTasks = (s: unknown): boolean => s instanceof Object && 'source' in s && /\bfrom "?tasks"?/i.test(String(s.source));
  proto.all = function (this: unknown, ...params: unknown[]) {
    const out = original.all.apply(this, params);
    if (readsTasks(this) && Array.isArray(out)) rows += out.length;
    return out;
  };
  proto.get = function (this: unknown, ...params: unknown[]) {
    const out = original.get.apply(this, params);
    if (readsTasks(this) && out !== undefined) rows++;
    return out;
  };
  // Not used by the store: refuse it, so a change to it cannot slip past the count.
  proto.iterate = function (this: unknown, ...params: unknown[]) {
    if (readsTasks(this)) throw new Error('iterate() on tasks is not counted');
    return original.iterate.apply(this, params);
  };
  return { rows: () => rows, restore: () => Object.assign(proto, original) };
}

test('2 000 independent tasks in one job: each event reads O(1) task rows, not the whole job', async () => {
  const tmp = tempDir();
  const store = await openSqliteStore({ path: tmp.path });
  const counter = countTaskRows();
  try {
    const tasks: Record<string, Partial<TaskSpec>> = {};
    for (let i = 0; i < 2_000; i++) tasks[`t${i}`] = {};
    const job = await store.createJob(spec(tasks), { defaultBackend: 'local' });
    const before = counter.rows();
    const seen = new Set<string>();
    let events = 0;
    for (let round = 0; seen.size < 2_000; round++) {
      // Mixed batch sizes: several claims of one job in one transaction share its snapshot.
      const claims = await store.claimAttempts(request({ limit: 1 + (round % 7), leaseMs: 60_000 }));
      assert.ok(claims.length > 0, `nothing claimable after ${seen.size} tasks`);
      for (const c of claims) {
        assert.equal(c.attempt, 1);
        assert.ok(!seen.has(c.attemptId), `${c.attemptId} claimed twice`);
        seen.add(c.attemptId);
        assert.equal(c.plan.name, c.task, 'the claim carries its own task\'s plan');
        ok(await store.markStarted(c));
        ok(await store.finishAttempt(c, { kind: 'succeeded' }));
        events += 2; // the claim and the finish; markStarted is no job event
      }
    }
    const read = counter.rows() - before;
    const stats = store.jobCacheStats();
    assert.deepEqual(await store.claimAttempts(request()), []);
    const view = await store.getJob(job.id);
    assert.equal(view?.state, 'succeeded');
    assert.deepEqual(view?.taskCounts, { succeeded: 2_000 });
    assert.ok(view?.tasks.every((t) => t.attempts.length === 1 && t.attempts[0]?.outcome?.kind === 'succeeded'));
    // One row per claim (its plan); finishes read none. Loading the job per event would be
    // 2 000 rows per event, 8 million in all.
    assert.equal(read, 2_000, `task rows read for ${events} events`);
    assert.equal(stats.loads, 0, 'createJob left the snapshot cached; nothing reloaded it');
    assert.ok(stats.hits >= 2_000, 'every finish found the snapshot in memory');
  } finally {
    counter.restore();
    await store.close();
    tmp.cleanup();
  }
});

/** A small deterministic generator (mulberry32), so a failing seed can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Drives one random job (dependencies, retries, failures, lost leases, cancel, retry) and
 * returns its events. The choices depend only on the seed and what the store returns, so two
 * runs agree exactly when the store decided the same things.
 */
async function randomRun(seed: number, stores: TestStore[], clock: Clock): Promise<string[]> {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T | undefined => xs[Math.floor(r() * xs.length)];
  const tasks: Record<string, Partial<TaskSpec>> = {};
  const n = 4 + Math.floor(r() * 20);
  for (let i = 0; i < n; i++) {
    const needs = [...new Set([0, 1, 2].map(() => Math.floor(r() * i)).filter((j) => i > 0 && r() < 0.4))].map((j) => `t${j}`);
    tasks[`t${i}`] = { needs, retries: { limit: Math.floor(r() * 3), backoff: { initial: '1s' } } };
  }
  const first = stores[0];
  if (first === undefined) throw new Error('no store');
  const job = await first.createJob(spec(tasks), { defaultBackend: 'local' });
  let running: Claim[] = [];
  let retries = 0;
  for (let step = 0; step < 400; step++) {
    const store = stores[step % stores.length] ?? first;
    const view = await store.getJob(job.id);
    if (!view) throw new Error('job gone');
    const roll = r();
    if (roll < 0.03 && !view.cancelRequested && view.endedAt === null) {
      ok(await store.cancelJob(job.id, 'random cancel'));
      continue;
    }
    if (view.endedAt !== null) {
      if (view.state === 'succeeded' || retries >= 3) break;
      retries++;
      ok(await store.retryJob(job.id));
      continue;
    }
    running.push(...await store.claimAttempts(request({ limit: 1 + Math.floor(r() * 3) })));
    if (running.length === 0) {
      clock.advance(60_000); // past any backoff
      continue;
    }
    if (roll < 0.1) {
      // Every running lease runs out; this store finds and ends them.
      clock.advance(31_000);
      for (const e of await store.expiredAttempts()) await store.markLost(e, 'random loss');
      running = [];
      continue;
    }
    const c = pick(running);
    if (c === undefined) continue;
    running = running.filter((x) => x !== c);
    const outcome: AttemptOutcome = r() < 0.7 ? { kind: 'succeeded' } : { kind: 'exited', code: 1 };
    ok(await store.finishAttempt(c, outcome));
    clock.advance(1 + Math.floor(r() * 3));
  }
  const events = await first.readEvents(0, 100_000, job.id);
  return events.map((e) => {
    const { id: _id, jobId: _job, ...rest } = e;
    return JSON.stringify(rest);
  });
}

for (const d of dialects) {
  describe(d.name, () => {
    it('two stores on one database alternately driving a job: each sees the other\'s writes', async () => {
      const db = await d.database();
      const clock = new Clock();
      const a = await db.open(clock);
      const b = await db.open(clock);
      try {
        const needs: Record<string, string[]> = { a: [], b: ['a'], c: ['a'], d: ['b', 'c'], e: [], f: ['e', 'd'] };
        const tasks: Record<string, Partial<TaskSpec>> = {};
        for (const [name, n] of Object.entries(needs)) tasks[name] = { needs: n };
        const job = await a.createJob(spec(tasks), { defaultBackend: 'local' });
        const stores = [a, b];
        const running: Claim[] = [];
        for (let step = 0; step < 100; step++) {
          const store = stores[step % 2] ?? a;
          const other = stores[(step + 1) % 2] ?? b;
          const claims = await store.claimAttempts(request({ limit: 1 }));
          for (const c of claims) {
            const view = await other.getJob(job.id);
            for (const n of needs[c.task] ?? []) {
              assert.equal(view?.tasks.find((t) => t.name === n)?.state, 'succeeded', `${c.task} started before ${n} succeeded`);
            }
            running.push(c);
          }
          // The other store finishes the oldest running attempt.
          const done = running.shift();
          if (done === undefined) break;
          ok(await other.finishAttempt(done, { kind: 'succeeded' }));
          const view = await store.getJob(job.id);
          const allDone = view?.tasks.every((t) => t.state === 'succeeded');
          assert.equal(view?.state, allDone ? 'succeeded' : 'running', `after ${done.task} finished`);
        }
        const end = await a.getJob(job.id);
        assert.equal(end?.state, 'succeeded');
        assert.ok(end?.tasks.every((t) => t.attempts.length === 1));
        // Each store had to reread the job after the other wrote it.
        assert.ok(a.jobCacheStats().loads > 0);
        assert.ok(b.jobCacheStats().loads > 0);
      } finally {
        await a.close();
        await b.close();
        await db.cleanup();
      }
    });

    it('a transaction that fails after persisting leaves nothing in memory that a later rev could match', async () => {
      const db = await d.database();
      const clock = new Clock();
      const a = await db.open(clock);
      const b = await db.open(clock);
      const [p1, p2] = d.name === 'sqlite' ? ['?', '?'] : ['$1', '$2'];
      try {
        const job = await a.createJob(spec({ x: { retries: { limit: 1, backoff: { initial: '0s' } } }, y: {} }), { defaultBackend: 'local' });
        const claims = await claimAll(a);
        const x = claims.find((c) => c.task === 'x');
        const y = claims.find((c) => c.task === 'y');
        assert.ok(x && y);

        // A row in the way of x's retry: finishing x fails after its snapshot was persisted (rev+1).
        await db.query(`INSERT INTO attempts (id, job_id, task, number, backend, state, queued_at, not_before)
          VALUES (${p1}, ${p2}, 'x', 2, 'local', 'ended', 0, 0)`, [`${job.id}-x-2`, job.id]);
        const failed: AttemptOutcome = { kind: 'exited', code: 1 };
        await assert.rejects(a.finishAttempt(x, failed), /unique/i);
        // Another process commits a different change, reaching that same rev.
        ok(await b.finishAttempt(y, { kind: 'succeeded' }));
        await db.query(`DELETE FROM attempts WHERE id = ${p1}`, [`${job.id}-x-2`]);

        // a must work from the committed state (x running, y succeeded), not the rolled-back one.
        ok(await a.finishAttempt(x, failed));
        const view = await a.getJob(job.id);
        assert.deepEqual(view?.tasks.map((t) => [t.name, t.state]), [['x', 'retrying'], ['y', 'succeeded']]);
        const retry = await claimAll(a);
        assert.deepEqual(retry.map((c) => [c.task, c.attempt]), [['x', 2]]);
        ok(await a.finishAttempt(retry[0] as Claim, { kind: 'succeeded' }));
        assert.equal((await b.getJob(job.id))?.state, 'succeeded');
      } finally {
        await a.close();
        await b.close();
        await db.cleanup();
      }
    });

    it('random jobs: served from memory, or reloaded on every event, the store decides the same (and as SQLite does)', async () => {
      const all: string[] = [];
      for (let seed = 1; seed <= 25; seed++) {
        const one = await d.database();
        const two = await d.database();
        const c1 = new Clock();
        const c2 = new Clock();
        const solo = await one.open(c1);
        const a = await two.open(c2);
        const b = await two.open(c2);
        try {
          const cached = await randomRun(seed, [solo], c1);
          // Alternating stores: every event finds the rev changed by the other and reloads.
          const reloaded = await randomRun(seed, [a, b], c2);
          assert.deepEqual(reloaded, cached, `seed ${seed}`);
          all.push(...cached);
          assert.equal(solo.jobCacheStats().loads, 0, `seed ${seed}: one store never needs to reload`);
          assert.ok(a.jobCacheStats().loads + b.jobCacheStats().loads > 0, `seed ${seed}`);
          if (d.name !== 'sqlite') {
            // The same choices, event for event, as the SQLite store makes.
            const c3 = new Clock();
            const reference = await memStore(c3);
            try {
              assert.deepEqual(cached, await randomRun(seed, [reference], c3), `seed ${seed}: differs from SQLite`);
            } finally {
              await reference.close();
            }
          }
        } finally {
          await solo.close();
          await a.close();
          await b.close();
          await one.cleanup();
          await two.cleanup();
        }
      }
      // The seeds reach every path that changes a task: retries, failures, losses, cancel, retry.
      for (const wanted of ['"to":"retrying"', '"to":"upstream_failed"', '"kind":"lost"', 'random cancel', '"from":"failed","to":"running"']) {
        assert.ok(all.some((e) => e.includes(wanted)), `no run had ${wanted}`);
      }
    });
  });
}

test('the cache serves a snapshot only at its rev and stays within its bounds', () => {
  const job = (id: string, rev: number, tasks: number): LoadedJob => ({
    id, rev, snapshot: jobSnapshot(new Map(), 'running'),
    backends: new Map(Array.from({ length: tasks }, (_, i) => [`t${i}`, 'local'] as const)),
  });
  const cache = new JobCache(2, 5);
  cache.set(job('a', 1, 2));
  assert.equal(cache.get('a', 2), undefined, 'another rev is another snapshot');
  assert.equal(cache.get('a', 1)?.rev, 1);
  cache.set(job('b', 1, 2));
  cache.get('a', 1); // a is now the most recently used
  cache.set(job('c', 1, 1));
  assert.equal(cache.get('b', 1), undefined, 'the least recently used job went first');
  assert.ok(cache.get('a', 1) && cache.get('c', 1));
  cache.set(job('d', 1, 5));
  assert.deepEqual(['a', 'c', 'd'].map((id) => cache.get(id, 1) !== undefined), [false, false, true], 'within 5 tasks');
  cache.set(job('huge', 1, 50));
  assert.ok(cache.get('huge', 1), 'the newest stays, however large');
  assert.equal(cache.stats.jobs, 1);
});
