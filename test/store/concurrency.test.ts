import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { dialects, spec, tempDir } from './helpers.js';

async function fill(store: Store, jobs: number): Promise<void> {
  for (let i = 0; i < jobs; i++) await store.createJob(spec({ a: {}, b: {} }), { defaultBackend: 'local' });
}

function assertAllOnce(ids: string[], expected: number): void {
  assert.equal(new Set(ids).size, ids.length, 'an attempt was claimed twice');
  assert.equal(ids.length, expected);
}

for (const d of dialects) {
  describe(d.name, () => {
    it('two stores on one database, claiming with interleaved awaits, never claim an attempt twice', async () => {
      const db = await d.database();
      const a = await db.open();
      const b = await db.open();
      try {
        await fill(a, 150);
        const claimed: string[] = [];
        async function worker(store: Store, workerId: string): Promise<void> {
          for (let round = 0; ; round++) {
            const claims = await store.claimAttempts({ workerId, backends: ['local'], leaseMs: 60_000, limit: 1 + (round % 5) });
            if (claims.length === 0) {
              // PostgreSQL skips attempts whose job another claim holds: done only when none is queued.
              if (await store.nextQueuedAt(['local']) === undefined) return;
              continue;
            }
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
        await db.cleanup();
      }
    });
  });
}

describe('sqlite only', () => {
  it('worker threads with their own connections claim each attempt exactly once', async () => {
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
});
