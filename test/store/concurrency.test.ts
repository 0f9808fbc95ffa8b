import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/index.js';
import { spec, tempDir } from './helpers.js';

async function fill(store: SqliteStore, jobs: number): Promise<void> {
  for (let i = 0; i < jobs; i++) await store.createJob(spec({ a: {}, b: {} }), { defaultBackend: 'local' });
}

function assertAllOnce(ids: string[], expected: number): void {
  assert.equal(new Set(ids).size, ids.length, 'an attempt was claimed twice');
  assert.equal(ids.length, expected);
}

test('two stores on one file, claiming with interleaved awaits, never claim an attempt twice', async () => {
  const tmp = tempDir();
  const a = await openSqliteStore({ path: tmp.path });
  const b = await openSqliteStore({ path: tmp.path });
  try {
    await fill(a, 150);
    const claimed: string[] = [];
    async function worker(store: SqliteStore, workerId: string): Promise<void> {
      for (let round = 0; ; round++) {
        const claims = await store.claimAttempts({ workerId, backends: ['local'], leaseMs: 60_000, limit: 1 + (round % 5) });
        if (claims.length === 0) return;
        for (const c of claims) claimed.push(c.attemptId);
      }
    }
    await Promise.all([worker(a, 'wa'), worker(b, 'wb'), worker(a, 'wa2'), worker(b, 'wb2')]);
    assertAllOnce(claimed, 300);
    const page = await b.listJobs({ state: 'running', limit: 500 });
    assert.equal(page.jobs.length, 150);
    assert.ok(page.jobs.every((j) => j.taskCounts.running === 2));
  } finally {
    await a.close();
    await b.close();
    tmp.cleanup();
  }
});

test('worker threads with their own connections claim each attempt exactly once', async () => {
  const tmp = tempDir();
  const store = await openSqliteStore({ path: tmp.path });
  try {
    await fill(store, 200);
    const script = new URL('./claim-worker.js', import.meta.url);
    // A shared barrier: all three threads start claiming together, so they really contend.
    const ready = new Int32Array(new SharedArrayBuffer(4));
    const results = await Promise.all([1, 2, 3].map((n) => new Promise<string[]>((resolve, reject) => {
      const w = new Worker(script, { workerData: { path: tmp.path, workerId: `t${n}`, ready, threads: 3 } });
      w.once('message', (ids: string[]) => resolve(ids));
      w.once('error', reject);
    })));
    assertAllOnce(results.flat(), 400);
  } finally {
    await store.close();
    tmp.cleanup();
  }
});
