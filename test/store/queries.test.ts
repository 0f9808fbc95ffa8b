import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobSummary } from '../../src/spec/api.js';
import { claimAll, claimOne, Clock, dialects, ok, spec } from './helpers.js';

for (const d of dialects) {
  describe(d.name, () => {
    it('listJobs: newest first, filtered by state and by every label pair, paged by cursor', async () => {
      const clock = new Clock();
      const store = await d.open(clock);
      try {
        const ids: string[] = [];
        for (let i = 0; i < 25; i++) {
          const labels: Record<string, string> = { 'app.kubernetes.io/name': i % 2 === 0 ? 'even' : 'odd', tier: i % 5 === 0 ? 'gold' : 'plain' };
          ids.push((await store.createJob(spec({ t: {} }, { name: `job-${i}`, labels }), { defaultBackend: 'local' })).id);
          clock.advance(1);
        }
        const newestFirst = [...ids].reverse();

        const seen: JobSummary[] = [];
        let cursor: string | undefined;
        const sizes: number[] = [];
        do {
          const page = await store.listJobs({ limit: 10, ...(cursor !== undefined ? { cursor } : {}) });
          sizes.push(page.jobs.length);
          seen.push(...page.jobs);
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined);
        assert.deepEqual(sizes, [10, 10, 5]);
        assert.deepEqual(seen.map((j) => j.id), newestFirst);
        assert.deepEqual(seen[0]?.taskCounts, { ready: 1 });
        assert.equal(seen[0]?.name, 'job-24');

        const even = await store.listJobs({ labels: { 'app.kubernetes.io/name': 'even' }, limit: 100 });
        assert.equal(even.jobs.length, 13);
        assert.equal(even.nextCursor, null);
        const evenGold = await store.listJobs({ labels: { 'app.kubernetes.io/name': 'even', tier: 'gold' }, limit: 100 });
        assert.deepEqual(evenGold.jobs.map((j) => j.name), ['job-20', 'job-10', 'job-0']);
        assert.deepEqual((await store.listJobs({ labels: { tier: 'none' }, limit: 10 })).jobs, []);

        const exact = await store.listJobs({ limit: 25 });
        assert.equal(exact.nextCursor, null, 'no cursor when the last page is exactly full');

        const c = await claimOne(store);
        assert.equal(c.jobId, ids[0], 'the longest-waiting attempt is claimed first');
        ok(await store.finishAttempt(c, { kind: 'succeeded' }));
        const done = await store.listJobs({ state: 'succeeded', limit: 10 });
        assert.deepEqual(done.jobs.map((j) => [j.id, j.taskCounts]), [[ids[0], { succeeded: 1 }]]);
        assert.deepEqual((await store.listJobs({ state: 'queued', labels: { tier: 'gold' }, limit: 10 })).jobs.map((j) => j.name),
          ['job-20', 'job-15', 'job-10', 'job-5']);

        await assert.rejects(store.listJobs({ limit: 10, cursor: 'garbage' }), /invalid cursor/);
      } finally {
        await store.close();
      }
    });

    it('logs read back in order, after an id, by task and attempt; unicode round-trips', async () => {
      const clock = new Clock();
      const store = await d.open(clock);
      try {
        const job = await store.createJob(spec({ a: { retries: { limit: 1, backoff: { initial: '1s' } } }, b: {} }), { defaultBackend: 'local' });
        const [a1, b1] = await claimAll(store);
        assert.equal(a1?.task, 'a');
        const texts = ['héllo wörld\n', '日本語のテキスト\n', 'emoji 🚢⚓️ and a ZWJ 👩‍💻\n', 'combining e\u0301 and RTL שלום\n', 'nul\u0000byte\n', 'x'.repeat(70_000)];
        for (const [i, text] of texts.entries()) {
          ok(await store.appendLogs(a1!, [{ stream: i % 2 ? 'stderr' : 'stdout', time: clock.t + i, text, bytes: Buffer.byteLength(text) }]));
        }
        ok(await store.appendLogs(b1!, [{ stream: 'stdout', time: clock.t, text: 'b says hi', bytes: 9 }]));
        ok(await store.finishAttempt(a1!, { kind: 'exited', code: 1 }));
        clock.advance(1_000);
        const a2 = await claimOne(store);
        ok(await store.appendLogs(a2, [
          { stream: 'stdout', time: clock.t, text: 'second try', bytes: 10 },
          { stream: 'system', time: clock.t, text: '[output truncated]', bytes: 0, truncated: true },
        ]));
        ok(await store.appendLogs(a2, []));

        const all = await store.readLogs({ jobId: job.id, limit: 100 });
        assert.equal(all.length, texts.length + 3);
        assert.ok(all.every((e, i) => i === 0 || e.id > all[i - 1]!.id), 'ordered by id');
        const first = await store.readLogs({ jobId: job.id, task: 'a', attempt: 1, limit: 100 });
        assert.deepEqual(first.map((e) => e.text), texts);
        assert.deepEqual(first.map((e) => e.stream), ['stdout', 'stderr', 'stdout', 'stderr', 'stdout', 'stderr']);
        assert.deepEqual(first.map((e) => e.time), texts.map((_, i) => clock.t - 1_000 + i));

        const after = await store.readLogs({ jobId: job.id, task: 'a', after: first[2]!.id, limit: 2 });
        assert.deepEqual(after.map((e) => e.text), texts.slice(3, 5));
        assert.deepEqual((await store.readLogs({ jobId: job.id, task: 'b', limit: 10 })).map((e) => [e.task, e.attempt, e.text]), [['b', 1, 'b says hi']]);
        assert.deepEqual((await store.readLogs({ jobId: job.id, task: 'a', attempt: 2, limit: 10 })).map((e) => e.text), ['second try', '[output truncated]']);

        const view = await store.getJob(job.id);
        const [v1, v2] = view?.tasks[0]?.attempts ?? [];
        assert.equal(v1?.logBytes, texts.reduce((n, t) => n + Buffer.byteLength(t), 0));
        assert.equal(v1?.logTruncated, false);
        assert.equal(v2?.logBytes, 10);
        assert.equal(v2?.logTruncated, true);
      } finally {
        await store.close();
      }
    });

    it('readEvents pages by id and filters by job', async () => {
      const store = await d.open();
      try {
        const a = await store.createJob(spec({ t: {} }), { defaultBackend: 'local' });
        const b = await store.createJob(spec({ t: {} }), { defaultBackend: 'local' });
        const all = await store.readEvents(0, 100);
        assert.equal(all.length, 8);
        const page = await store.readEvents(all[2]!.id, 3);
        assert.deepEqual(page.map((e) => e.id), all.slice(3, 6).map((e) => e.id));
        const onlyB = await store.readEvents(0, 100, b.id);
        assert.equal(onlyB.length, 4);
        assert.ok(onlyB.every((e) => e.jobId === b.id));
        assert.deepEqual(await store.readEvents(all.at(-1)!.id, 10), []);
        assert.notEqual(a.id, b.id);
      } finally {
        await store.close();
      }
    });

    it('attemptStates, nextQueuedAt, ping', async () => {
      const clock = new Clock();
      const store = await d.open(clock);
      try {
        assert.equal(await store.nextQueuedAt(['local']), undefined);
        await store.createJob(spec({ a: {}, d: { backend: 'docker' } }), { defaultBackend: 'local' });
        assert.equal(await store.nextQueuedAt(['local', 'docker']), clock.t);
        assert.equal(await store.nextQueuedAt(['kubernetes']), undefined);
        assert.equal(await store.nextQueuedAt([]), undefined);
        const c = await claimOne(store);
        const ids = [c.attemptId, ...Array.from({ length: 1_200 }, (_, i) => `missing-${i}`), c.attemptId.replace(/-a-1$/, '-d-1')];
        const states = await store.attemptStates(ids);
        assert.deepEqual(states.get(c.attemptId), { state: 'running', leaseExpiresAt: c.leaseExpiresAt });
        assert.deepEqual(states.get(ids.at(-1)!), { state: 'queued', leaseExpiresAt: null });
        assert.equal(states.size, 2);
        await store.ping();
      } finally {
        await store.close();
      }
      await assert.rejects(store.ping());
    });

    it('a throwing listener breaks neither the store nor the other listeners; unsubscribing works', async () => {
      const store = await d.open();
      try {
        const seen: string[] = [];
        store.onChange(() => { throw new Error('listener bug'); });
        const off = store.onChange((c) => seen.push(c.type));
        const job = await store.createJob(spec({ t: {} }), { defaultBackend: 'local' });
        assert.deepEqual(seen, ['attempts_queued', 'events']);
        off();
        await store.cancelJob(job.id, 'x');
        assert.equal(seen.length, 2);
        assert.equal((await store.getJob(job.id))?.state, 'canceled');
      } finally {
        await store.close();
      }
    });
  });
}
