// The PostgreSQL store keeps job snapshots in memory like the SQLite one (validated by the
// job's rev under its row lock): events of a large job never reread its task rows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openPostgresStore } from '../../../src/store/postgres/index.js';
import type { TaskSpec } from '../../../src/spec/schema.js';
import { freshDatabase } from '../../infra/postgres.js';
import { ok, request, spec } from '../helpers.js';

describe('postgres job cache', () => {
  it('300 independent tasks in one job: no claim or finish reloads the job', async () => {
    const store = await openPostgresStore({ url: await freshDatabase() });
    try {
      const tasks: Record<string, Partial<TaskSpec>> = {};
      for (let i = 0; i < 300; i++) tasks[`t${i}`] = {};
      const job = await store.createJob(spec(tasks), { defaultBackend: 'local' });
      const seen = new Set<string>();
      for (let round = 0; seen.size < 300; round++) {
        const claims = await store.claimAttempts(request({ limit: 1 + (round % 13), leaseMs: 60_000 }));
        assert.ok(claims.length > 0, `nothing claimable after ${seen.size} tasks`);
        for (const c of claims) {
          assert.ok(!seen.has(c.attemptId), `${c.attemptId} claimed twice`);
          seen.add(c.attemptId);
          assert.equal(c.plan.name, c.task, 'the claim carries its own task\'s plan');
          ok(await store.finishAttempt(c, { kind: 'succeeded' }));
        }
      }
      const stats = store.jobCacheStats();
      assert.equal(stats.loads, 0, 'createJob left the snapshot cached; nothing reloaded it');
      assert.equal(stats.taskRows, 0);
      assert.ok(stats.hits >= 300, `${stats.hits} hits`);
      const view = await store.getJob(job.id);
      assert.equal(view?.state, 'succeeded');
      assert.deepEqual(view?.taskCounts, { succeeded: 300 });
    } finally {
      await store.close();
    }
  });
});
