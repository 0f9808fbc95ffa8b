import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { claimOne, Clock, dialects, ok, spec } from './helpers.js';

const LEASE_LOST = { ok: false, reason: 'lease_lost' };

for (const d of dialects) {
  describe(d.name, () => {
    it('adoptAttempt takes over an expired attempt with a new fence; the old claim is fenced off', async () => {
      const clock = new Clock();
      const store = await d.open(clock);
      try {
        const job = await store.createJob(spec({ t: { timeout: '1m' } }), { defaultBackend: 'local' });
        const old = await claimOne(store, { leaseMs: 1_000 });
        ok(await store.markStarted(old));
        const startedAt = clock.t;
        ok(await store.appendLogs(old, [{ stream: 'stdout', time: clock.t, text: 'one\n', bytes: 4 }], '2026-01-01T00:00:01.000000001Z'));
        ok(await store.appendLogs(old, [], '2026-01-01T00:00:02.5Z')); // a cursor alone moves too
        ok(await store.appendLogs(old, [{ stream: 'stdout', time: clock.t, text: 'two\n', bytes: 4 }])); // none: kept

        const early = { attemptId: old.attemptId, jobId: job.id, task: 't', attempt: 1, fence: old.fence, backend: 'local' as const, workerId: 'w1' };
        assert.equal(await store.adoptAttempt(early, { workerId: 'w2', leaseMs: 5_000 }), undefined, 'a live lease is not taken');

        clock.advance(1_000);
        const [expired] = await store.expiredAttempts();
        assert.ok(expired);
        const claim = await store.adoptAttempt(expired, { workerId: 'w2', leaseMs: 5_000 });
        assert.ok(claim);
        assert.equal(claim.fence, old.fence + 1);
        assert.equal(claim.workerId, 'w2');
        assert.equal(claim.leaseExpiresAt, clock.t + 5_000);
        assert.equal(claim.plan.timeoutMs, 60_000);
        assert.deepEqual(claim.adopted, { startedAt, logCursor: '2026-01-01T00:00:02.5Z' });

        assert.equal(await store.adoptAttempt(expired, { workerId: 'w3', leaseMs: 5_000 }), undefined, 'taken once');
        assert.deepEqual(await store.markLost(expired, 'worker lost'), false, 'an adopted attempt is not lost');
        assert.deepEqual(await store.renewLease(old, 1_000), LEASE_LOST);
        assert.deepEqual(await store.appendLogs(old, [{ stream: 'stdout', time: clock.t, text: 'late\n', bytes: 5 }]), LEASE_LOST);

        ok(await store.appendLogs(claim, [{ stream: 'stdout', time: clock.t, text: 'three\n', bytes: 6 }]));
        ok(await store.finishAttempt(claim, { kind: 'succeeded' }));
        const view = await store.getJob(job.id);
        assert.equal(view?.state, 'succeeded');
        assert.equal(view?.tasks[0]?.attempts.length, 1, 'adoption is no new attempt');
        const text = (await store.readLogs({ jobId: job.id, limit: 10 })).map((l) => l.text).join('');
        assert.equal(text, 'one\ntwo\nthree\n');
      } finally {
        await store.close();
      }
    });
  });
}
