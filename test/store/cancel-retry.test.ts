import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { StoreChange } from '../../src/store/types.js';
import { claimAll, claimOne, Clock, dialects, ok, spec } from './helpers.js';

for (const d of dialects) {
  describe(d.name, () => {
    it('cancel of a job with a running attempt asks it to stop; the job ends canceled once it has', async () => {
      const clock = new Clock();
      const store = await d.open(clock);
      const changes: StoreChange[] = [];
      store.onChange((c) => changes.push(c));
      try {
        const job = await store.createJob(spec({ a: {}, b: { backend: 'docker' }, c: { needs: ['a'] } }), { defaultBackend: 'local' });
        const running = await claimOne(store);
        assert.equal(running.task, 'a');

        const canceled = ok(await store.cancelJob(job.id, 'asked by alice'));
        assert.equal(canceled.state, 'running', 'a is still running');
        assert.equal(canceled.cancelRequested, true);
        assert.equal(canceled.endedAt, null);
        assert.deepEqual(canceled.tasks.map((t) => t.state), ['running', 'canceled', 'canceled']);
        const dropped = canceled.tasks[1]?.attempts[0];
        assert.equal(dropped?.state, 'ended');
        assert.deepEqual(dropped?.outcome, { kind: 'canceled', reason: 'asked by alice' });
        assert.equal(dropped?.exitStatus, 130);
        assert.deepEqual(await claimAll(store, { backends: ['docker'] }), [], 'the queued attempt was dropped');
        assert.deepEqual(changes.filter((c) => c.type === 'stop_requested'),
          [{ type: 'stop_requested', attemptId: running.attemptId, reason: 'asked by alice' }]);

        const renewal = ok(await store.renewLease(running, 30_000));
        assert.equal(renewal.stopRequested, 'asked by alice');
        assert.equal(ok(await store.cancelJob(job.id, 'twice')).state, 'running', 'a second cancel changes nothing');
        assert.equal(ok(await store.renewLease(running, 30_000)).stopRequested, 'asked by alice');

        clock.advance(10);
        ok(await store.finishAttempt(running, { kind: 'canceled', reason: 'asked by alice' }));
        const ended = await store.getJob(job.id);
        assert.equal(ended?.state, 'canceled');
        assert.equal(ended?.endedAt, clock.t);
        assert.deepEqual(ended?.tasks.map((t) => t.state), ['canceled', 'canceled', 'canceled']);
      } finally {
        await store.close();
      }
    });

    it('cancel of a queued job ends it at once; refusals map to conflict and not_found', async () => {
      const store = await d.open();
      try {
        const job = await store.createJob(spec({ a: {} }), { defaultBackend: 'local' });
        const v = ok(await store.cancelJob(job.id, 'no longer needed'));
        assert.equal(v.state, 'canceled');
        assert.deepEqual(await claimAll(store), []);

        const again = await store.cancelJob(job.id, 'again');
        assert.equal(again.ok, false);
        assert.equal(!again.ok && again.error.code, 'conflict');
        assert.match(!again.ok ? again.error.message : '', /already ended/);
        const missing = await store.cancelJob('jnope', 'x');
        assert.deepEqual(missing, { ok: false, error: { code: 'not_found', message: 'no job jnope' } });
        const retryMissing = await store.retryJob('jnope');
        assert.equal(!retryMissing.ok && retryMissing.error.code, 'not_found');
      } finally {
        await store.close();
      }
    });

    it('retryJob reopens a failed job: failed and upstream_failed tasks run again', async () => {
      const clock = new Clock();
      const store = await d.open(clock);
      try {
        const job = await store.createJob(spec({ a: {}, b: { needs: ['a'] }, ok: {} }), { defaultBackend: 'local' });
        for (const c of await claimAll(store)) ok(await store.finishAttempt(c, c.task === 'a' ? { kind: 'exited', code: 1 } : { kind: 'succeeded' }));
        assert.equal((await store.getJob(job.id))?.state, 'failed');

        const running = await store.createJob(spec({ x: {} }), { defaultBackend: 'local' });
        const notEnded = await store.retryJob(running.id);
        assert.equal(!notEnded.ok && notEnded.error.code, 'conflict');

        clock.advance(100);
        const reopened = ok(await store.retryJob(job.id));
        assert.equal(reopened.state, 'running');
        assert.equal(reopened.endedAt, null);
        assert.deepEqual(reopened.tasks.map((t) => t.state), ['ready', 'pending', 'succeeded']);
        assert.equal(reopened.tasks[0]?.attempts[1]?.state, 'queued');

        const retried = (await claimAll(store)).filter((c) => c.jobId === job.id);
        assert.deepEqual(retried.map((c) => [c.task, c.attempt]), [['a', 2]]);
        ok(await store.finishAttempt(retried[0]!, { kind: 'succeeded' }));
        const b = await claimOne(store);
        assert.deepEqual([b.task, b.attempt], ['b', 1]);
        ok(await store.finishAttempt(b, { kind: 'succeeded' }));
        const done = await store.getJob(job.id);
        assert.equal(done?.state, 'succeeded');

        const succeeded = await store.retryJob(job.id);
        assert.equal(!succeeded.ok && succeeded.error.code, 'conflict');
        const events = await store.readEvents(0, 1_000, job.id);
        assert.deepEqual(events.filter((e) => e.type === 'job_state').map((e) => e.type === 'job_state' && `${e.from ?? '-'}→${e.to}`),
          ['-→queued', 'queued→running', 'running→failed', 'failed→running', 'running→succeeded']);
      } finally {
        await store.close();
      }
    });

    it('a retried task gets its full retry budget again', async () => {
      const clock = new Clock();
      const store = await d.open(clock);
      try {
        const job = await store.createJob(spec({ t: { retries: { limit: 1, backoff: { initial: '1s' } } } }), { defaultBackend: 'local' });
        ok(await store.finishAttempt(await claimOne(store), { kind: 'exited', code: 1 }));
        clock.advance(1_000);
        ok(await store.finishAttempt(await claimOne(store), { kind: 'exited', code: 1 }));
        assert.equal((await store.getJob(job.id))?.state, 'failed');
        ok(await store.retryJob(job.id));
        const third = await claimOne(store);
        assert.equal(third.attempt, 3);
        ok(await store.finishAttempt(third, { kind: 'exited', code: 1 }));
        const view = await store.getJob(job.id);
        assert.equal(view?.tasks[0]?.state, 'retrying');
        assert.equal(view?.tasks[0]?.attempts[3]?.number, 4);
      } finally {
        await store.close();
      }
    });
  });
}
