import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { claimAll, claimOne, Clock, dialects, ok, spec } from './helpers.js';

const LEASE_LOST = { ok: false, reason: 'lease_lost' };

for (const d of dialects) {
  describe(d.name, () => {
    it('renewLease extends the lease; the attempt is not expired while renewed', async () => {
      const clock = new Clock();
      const store = await d.open(clock);
      try {
        await store.createJob(spec({ t: {} }), { defaultBackend: 'local' });
        const claim = await claimOne(store, { leaseMs: 1_000 });
        clock.advance(900);
        assert.deepEqual(await store.renewLease(claim, 1_000), { ok: true, value: { leaseExpiresAt: clock.t + 1_000, stopRequested: null } });
        clock.advance(900);
        assert.deepEqual(await store.expiredAttempts(), []);
        ok(await store.appendLogs(claim, [{ stream: 'stdout', time: clock.t, text: 'still here', bytes: 10 }]));
        const states = await store.attemptStates([claim.attemptId, 'nope']);
        assert.deepEqual([...states], [[claim.attemptId, { state: 'running', leaseExpiresAt: clock.t + 100 }]]);
      } finally {
        await store.close();
      }
    });

    it('an expired lease is found, marked lost, and the task retried per its policy', async () => {
      const clock = new Clock();
      const store = await d.open(clock);
      try {
        const job = await store.createJob(spec({ t: { retries: { limit: 1, backoff: { initial: '2s' } } } }), { defaultBackend: 'local' });
        const claim = await claimOne(store, { leaseMs: 1_000 });
        clock.advance(999);
        assert.deepEqual(await store.expiredAttempts(), []);
        clock.advance(1);
        const expired = await store.expiredAttempts();
        assert.deepEqual(expired, [{
          attemptId: claim.attemptId, jobId: job.id, task: 't', attempt: 1, fence: claim.fence, backend: 'local', workerId: 'w1',
        }]);
        assert.equal(await store.markLost(expired[0]!, 'worker w1 stopped renewing'), true);
        assert.equal(await store.markLost(expired[0]!, 'again'), false, 'already ended');
        assert.deepEqual(await store.expiredAttempts(), []);

        const view = await store.getJob(job.id);
        const [first, second] = view?.tasks[0]?.attempts ?? [];
        assert.deepEqual(first?.outcome, { kind: 'lost', reason: 'worker w1 stopped renewing' });
        assert.equal(first?.exitStatus, 125);
        assert.equal(second?.state, 'queued');
        assert.equal(second?.notBefore, clock.t + 2_000);
        assert.equal(view?.tasks[0]?.state, 'retrying');

        clock.advance(2_000);
        const again = await claimOne(store, { workerId: 'w2' });
        assert.equal(again.attempt, 2);
        ok(await store.finishAttempt(again, { kind: 'succeeded' }));
        assert.equal((await store.getJob(job.id))?.state, 'succeeded');
      } finally {
        await store.close();
      }
    });

    it('without retries a lost attempt fails the job', async () => {
      const clock = new Clock();
      const store = await d.open(clock);
      try {
        const job = await store.createJob(spec({ t: {} }), { defaultBackend: 'local' });
        await claimOne(store, { leaseMs: 10 });
        clock.advance(10);
        const [e] = await store.expiredAttempts();
        assert.equal(await store.markLost(e!, 'gone'), true);
        assert.equal((await store.getJob(job.id))?.state, 'failed');
      } finally {
        await store.close();
      }
    });

    it('markLost refuses an attempt that is not expired or was claimed again', async () => {
      const clock = new Clock();
      const store = await d.open(clock);
      try {
        await store.createJob(spec({ t: {} }), { defaultBackend: 'local' });
        const claim = await claimOne(store, { leaseMs: 1_000 });
        const seen = { attemptId: claim.attemptId, jobId: claim.jobId, task: 't', attempt: 1, fence: claim.fence, backend: 'local' as const, workerId: 'w1' };
        assert.equal(await store.markLost(seen, 'too early'), false);
        clock.advance(1_000);
        assert.equal(await store.markLost({ ...seen, fence: claim.fence + 1 }, 'other fence'), false);
        assert.equal((await store.attemptStates([claim.attemptId])).get(claim.attemptId)?.state, 'running');
      } finally {
        await store.close();
      }
    });

    it("a stale worker's writes are refused and change nothing", async () => {
      const clock = new Clock();
      const store = await d.open(clock);
      try {
        const job = await store.createJob(spec({ t: { retries: { limit: 1 } } }), { defaultBackend: 'local' });
        const claim = await claimOne(store, { leaseMs: 1_000 });
        const chunk = [{ stream: 'stdout' as const, time: clock.t, text: 'x', bytes: 1 }];

        // Another worker's id, or an older fence: refused even while the lease is valid.
        for (const forged of [{ ...claim, workerId: 'w2' }, { ...claim, fence: claim.fence - 1 }]) {
          assert.deepEqual(await store.renewLease(forged, 1_000), LEASE_LOST);
          assert.deepEqual(await store.markStarted(forged), LEASE_LOST);
          assert.deepEqual(await store.appendLogs(forged, chunk), LEASE_LOST);
          assert.deepEqual(await store.finishAttempt(forged, { kind: 'succeeded' }), LEASE_LOST);
        }

        // The lease passed: refused before anyone marks it lost…
        clock.advance(1_000);
        assert.deepEqual(await store.renewLease(claim, 1_000), LEASE_LOST);
        assert.deepEqual(await store.appendLogs(claim, chunk), LEASE_LOST);
        assert.deepEqual(await store.finishAttempt(claim, { kind: 'succeeded' }), LEASE_LOST);
        // …and after.
        const [e] = await store.expiredAttempts();
        assert.equal(await store.markLost(e!, 'lease passed'), true);
        assert.deepEqual(await store.markStarted(claim), LEASE_LOST);
        assert.deepEqual(await store.finishAttempt(claim, { kind: 'succeeded' }), LEASE_LOST);

        const view = await store.getJob(job.id);
        const first = view?.tasks[0]?.attempts[0];
        assert.equal(first?.startedAt, null);
        assert.equal(first?.logBytes, 0);
        assert.deepEqual(first?.outcome, { kind: 'lost', reason: 'lease passed' });
        assert.deepEqual(await store.readLogs({ jobId: job.id, limit: 10 }), []);
        assert.equal(view?.tasks[0]?.state, 'retrying', 'the stale success did not count');
        assert.equal((await claimAll(store, { leaseMs: 1_000 })).length, 0, 'the retry waits for its backoff');
      } finally {
        await store.close();
      }
    });
  });
}
