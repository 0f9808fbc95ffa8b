import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { claimOne, Clock, dialects, ok, spec } from './helpers.js';

for (const d of dialects) {
  describe(d.name, () => {
    it('queueStats counts jobs and tasks by state and live attempts by backend', async () => {
      const clock = new Clock();
      const store = await d.open(clock);
      try {
        const empty = await store.queueStats(clock.t);
        assert.deepEqual(empty.jobs, { queued: 0, running: 0, succeeded: 0, failed: 0, canceled: 0 });
        assert.equal(Object.values(empty.tasks).reduce((a, b) => a + b), 0);
        assert.deepEqual(empty.backends, {});

        const t0 = clock.t;
        const retried = await store.createJob(spec({
          flaky: { retries: { limit: 1, backoff: { initial: '10s' } } },
          after: { needs: ['flaky'] },
        }), { defaultBackend: 'local' });
        clock.advance(1_000);
        const quick = await store.createJob(spec({ t: {} }), { defaultBackend: 'local' });
        await store.createJob(spec({ d: { backend: 'docker' } }), { defaultBackend: 'local' });
        const dropped = await store.createJob(spec({ x: {} }), { defaultBackend: 'local' });
        ok(await store.cancelJob(dropped.id, 'not wanted'));
        clock.advance(4_000);

        let s = await store.queueStats(clock.t);
        assert.deepEqual(s.jobs, { queued: 3, running: 0, succeeded: 0, failed: 0, canceled: 1 });
        assert.deepEqual(s.tasks, { pending: 1, ready: 3, running: 0, retrying: 0, succeeded: 0, failed: 0, upstream_failed: 0, canceled: 1 });
        assert.deepEqual(s.backends, {
          local: { claimable: 2, backoff: 0, oldestClaimableAt: t0, running: 0 },
          docker: { claimable: 1, backoff: 0, oldestClaimableAt: t0 + 1_000, running: 0 },
        });

        // Claims take the oldest first: the flaky task, then the quick one.
        const flaky = await claimOne(store);
        assert.equal(flaky.jobId, retried.id);
        const q = await claimOne(store);
        assert.equal(q.jobId, quick.id);
        ok(await store.markStarted(q));
        ok(await store.finishAttempt(q, { kind: 'succeeded' }));
        ok(await store.finishAttempt(flaky, { kind: 'exited', code: 1 }));
        s = await store.queueStats(clock.t);
        assert.deepEqual(s.jobs, { queued: 1, running: 1, succeeded: 1, failed: 0, canceled: 1 });
        assert.equal(s.tasks.retrying, 1);
        assert.equal(s.tasks.succeeded, 1);
        assert.deepEqual(s.backends.local, { claimable: 0, backoff: 1, oldestClaimableAt: null, running: 0 });

        // Once the backoff has passed, the retry is claimable and has waited since then.
        const due = clock.t + 10_000;
        clock.advance(12_000);
        s = await store.queueStats(clock.t);
        assert.deepEqual(s.backends.local, { claimable: 1, backoff: 0, oldestClaimableAt: due, running: 0 });
        await claimOne(store);
        s = await store.queueStats(clock.t);
        assert.deepEqual(s.backends.local, { claimable: 0, backoff: 0, oldestClaimableAt: null, running: 1 });
        assert.equal(s.tasks.running, 1);
        // The store answers as of the time asked, not its own clock.
        assert.equal((await store.queueStats(t0)).backends.docker?.claimable, 0);
      } finally {
        await store.close();
      }
    });
  });
}
