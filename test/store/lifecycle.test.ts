import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { StoreChange } from '../../src/store/types.js';
import type { WharfEvent } from '../../src/spec/api.js';
import { claimAll, claimOne, Clock, dialects, ok, spec } from './helpers.js';

/** Events as short strings, to compare whole sequences at a glance. */
function brief(events: WharfEvent[]): string[] {
  return events.map((e) => {
    switch (e.type) {
      case 'job_state': return `job ${e.from ?? '-'}→${e.to}`;
      case 'task_state': return `${e.task} ${e.from ?? '-'}→${e.to}`;
      case 'attempt': return `${e.task}#${e.attempt} ${e.state}${e.outcome ? ` ${e.outcome.kind}` : ''}`;
    }
  });
}

for (const d of dialects) {
  describe(d.name, () => {
    it('create → claim → start → logs → finish drives a job to succeeded, events in order', async () => {
      const clock = new Clock();
      const store = await d.open(clock);
      const changes: StoreChange[] = [];
      store.onChange((c) => changes.push(c));
      try {
        const created = await store.createJob(spec({ build: { env: { A: '1' } } }, { labels: { team: 'x' } }), { defaultBackend: 'local' });
        assert.match(created.id, /^j[0-9a-z]{16}$/);
        assert.equal(created.state, 'queued');
        assert.deepEqual(created.labels, { team: 'x' });
        assert.equal(created.tasks[0]?.state, 'ready');
        assert.deepEqual(changes.map((c) => c.type), ['attempts_queued', 'events']);

        clock.advance(5);
        const claim = await claimOne(store);
        assert.equal(claim.jobId, created.id);
        assert.equal(claim.attemptId, `${created.id}-build-1`);
        assert.equal(claim.attempt, 1);
        assert.equal(claim.fence, 1);
        assert.equal(claim.backend, 'local');
        assert.equal(claim.leaseExpiresAt, clock.t + 30_000);
        assert.deepEqual(claim.plan.env, { A: '1' });
        assert.deepEqual(await claimAll(store), [], 'nothing else is queued');

        clock.advance(5);
        ok(await store.markStarted(claim));
        ok(await store.appendLogs(claim, [{ stream: 'stdout', time: clock.t, text: 'hello\n', bytes: 6 }]));
        ok(await store.appendLogs(claim, [{ stream: 'stderr', time: clock.t, text: 'warn\n', bytes: 5 }]));
        clock.advance(5);
        ok(await store.finishAttempt(claim, { kind: 'succeeded' }));

        const job = await store.getJob(created.id);
        assert.equal(job?.state, 'succeeded');
        assert.equal(job?.endedAt, clock.t);
        assert.deepEqual(job?.taskCounts, { succeeded: 1 });
        const attempt = job?.tasks[0]?.attempts[0];
        assert.equal(attempt?.state, 'ended');
        assert.equal(attempt?.startedAt, clock.t - 5);
        assert.equal(attempt?.endedAt, clock.t);
        assert.equal(attempt?.worker, 'w1');
        assert.deepEqual(attempt?.outcome, { kind: 'succeeded' });
        assert.equal(attempt?.exitStatus, 0);
        assert.equal(attempt?.logBytes, 11);
        assert.equal(attempt?.logTruncated, false);

        const events = await store.readEvents(0, 100);
        assert.deepEqual(brief(events), [
          'job -→queued', 'build -→pending', 'build pending→ready', 'build#1 queued',
          'build#1 running', 'build ready→running', 'job queued→running',
          'build#1 ended succeeded', 'build running→succeeded', 'job running→succeeded',
        ]);
        assert.ok(events.every((e, i) => e.id === (events[0]?.id ?? 0) + i && e.jobId === created.id));
        assert.ok(changes.some((c) => c.type === 'logs' && c.jobId === created.id && c.task === 'build'));
      } finally {
        await store.close();
      }
    });

    it('each task runs on its own backend, else the default one', async () => {
      const store = await d.open();
      try {
        const job = await store.createJob(spec({ a: {}, b: { backend: 'docker', image: 'alpine' } }), { defaultBackend: 'local' });
        assert.deepEqual(job.tasks.map((t) => t.backend), ['local', 'docker']);
        const docker = await claimAll(store, { backends: ['docker'] });
        assert.deepEqual(docker.map((c) => [c.task, c.backend, c.plan.image]), [['b', 'docker', 'alpine']]);
        assert.deepEqual((await claimAll(store, { backends: ['kubernetes'] })).length, 0);
        assert.deepEqual((await claimAll(store, { backends: ['local', 'kubernetes'] })).map((c) => c.task), ['a']);
      } finally {
        await store.close();
      }
    });

    it('a DAG: dependants are queued only once all their needs succeeded', async () => {
      const store = await d.open();
      try {
        const s = spec({ a: {}, b: { needs: ['a'] }, c: { needs: ['a'] }, d: { needs: ['b', 'c'] } });
        const job = await store.createJob(s, { defaultBackend: 'local' });
        assert.deepEqual(job.tasks.map((t) => t.name), ['a', 'b', 'c', 'd'], 'tasks keep the spec order');

        const a = await claimAll(store);
        assert.deepEqual(a.map((c) => c.task), ['a']);
        ok(await store.finishAttempt(a[0]!, { kind: 'succeeded' }));

        const bc = await claimAll(store);
        assert.deepEqual(bc.map((c) => c.task).sort(), ['b', 'c']);
        ok(await store.finishAttempt(bc.find((c) => c.task === 'b')!, { kind: 'succeeded' }));
        assert.deepEqual(await claimAll(store), [], 'd still waits for c');
        ok(await store.finishAttempt(bc.find((c) => c.task === 'c')!, { kind: 'succeeded' }));

        const d = await claimAll(store);
        assert.deepEqual(d.map((c) => c.task), ['d']);
        ok(await store.finishAttempt(d[0]!, { kind: 'succeeded' }));
        assert.equal((await store.getJob(job.id))?.state, 'succeeded');
      } finally {
        await store.close();
      }
    });

    it('a failed need makes its dependants upstream_failed and fails the job', async () => {
      const store = await d.open();
      try {
        const job = await store.createJob(spec({ a: {}, b: {}, c: { needs: ['a'] } }), { defaultBackend: 'local' });
        const claims = await claimAll(store);
        ok(await store.finishAttempt(claims.find((c) => c.task === 'a')!, { kind: 'exited', code: 3 }));
        let view = await store.getJob(job.id);
        assert.equal(view?.state, 'running', 'b is still running');
        assert.deepEqual(view?.tasks.map((t) => t.state), ['failed', 'running', 'upstream_failed']);
        ok(await store.finishAttempt(claims.find((c) => c.task === 'b')!, { kind: 'succeeded' }));
        view = await store.getJob(job.id);
        assert.equal(view?.state, 'failed');
        assert.equal(view?.tasks[0]?.attempts[0]?.exitStatus, 3);
        assert.deepEqual(view?.taskCounts, { failed: 1, succeeded: 1, upstream_failed: 1 });
      } finally {
        await store.close();
      }
    });

    it('a failure with retries queues the next attempt after the backoff, not before', async () => {
      const clock = new Clock();
      const store = await d.open(clock);
      try {
        const s = spec({ t: { retries: { limit: 2, backoff: { initial: '10s', factor: 3 } } } });
        const job = await store.createJob(s, { defaultBackend: 'local' });

        const first = await claimOne(store);
        ok(await store.finishAttempt(first, { kind: 'exited', code: 1 }));
        let view = await store.getJob(job.id);
        assert.equal(view?.tasks[0]?.state, 'retrying');
        const second = view?.tasks[0]?.attempts[1];
        assert.equal(second?.state, 'queued');
        assert.equal(second?.notBefore, clock.t + 10_000);
        assert.equal(await store.nextQueuedAt(['local']), clock.t + 10_000);

        clock.advance(9_999);
        assert.deepEqual(await claimAll(store), [], 'not before the backoff has passed');
        clock.advance(1);
        const c2 = await claimOne(store);
        assert.equal(c2.attempt, 2);
        ok(await store.finishAttempt(c2, { kind: 'signaled', signal: 9, signalName: 'SIGKILL' }));
        view = await store.getJob(job.id);
        assert.equal(view?.tasks[0]?.attempts[2]?.notBefore, clock.t + 30_000, 'the second delay is initial·factor');

        clock.advance(30_000);
        const c3 = await claimOne(store);
        ok(await store.finishAttempt(c3, { kind: 'exited', code: 2 }));
        view = await store.getJob(job.id);
        assert.equal(view?.state, 'failed');
        assert.deepEqual(view?.tasks[0]?.attempts.map((a) => a.exitStatus), [1, 137, 2]);
        assert.equal(await store.nextQueuedAt(['local']), undefined);
      } finally {
        await store.close();
      }
    });

    it('createJob writes nothing when it fails part-way', async () => {
      const db = await d.database();
      const store = await db.open();
      try {
        // A trigger refuses the attempts' insert, after the job, tasks and events were written.
        const [refuse, unrefuse] = d.name === 'sqlite'
          ? [["CREATE TRIGGER refuse BEFORE INSERT ON attempts BEGIN SELECT RAISE(ABORT, 'refused by test'); END"], 'DROP TRIGGER refuse']
          : [["CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by test'; END $$",
            'CREATE TRIGGER refuse BEFORE INSERT ON attempts FOR EACH ROW EXECUTE FUNCTION refuse()'], 'DROP TRIGGER refuse ON attempts'];
        for (const q of refuse) await db.query(q);
        await assert.rejects(store.createJob(spec({ a: {}, b: { needs: ['a'] } }), { defaultBackend: 'local' }), /refused by test/);
        for (const table of ['jobs', 'tasks', 'attempts', 'events']) {
          const [row] = await db.query(`SELECT count(*) AS n FROM ${table}`);
          assert.equal(Number(row?.n), 0, table);
        }
        await db.query(unrefuse);
        const job = await store.createJob(spec({ a: {} }), { defaultBackend: 'local' });
        assert.equal(job.state, 'queued');
        assert.deepEqual((await store.readEvents(0, 100)).map((e) => e.jobId), [job.id, job.id, job.id, job.id], 'no events of the failed job');
      } finally {
        await store.close();
        await db.cleanup();
      }
    });

    it('1 000 one-task jobs run through the store (300 on PostgreSQL)', async (t) => {
      const store = await d.open();
      try {
        const n = d.name === 'sqlite' ? 1_000 : 300; // PostgreSQL: a few round trips per call
        const started = performance.now();
        for (let i = 0; i < n; i++) {
          await store.createJob(spec({ t: {} }), { defaultBackend: 'local' });
          const c = await claimOne(store);
          ok(await store.markStarted(c));
          for (let j = 0; j < 3; j++) ok(await store.appendLogs(c, [{ stream: 'stdout', time: j, text: `line ${j}\n`, bytes: 7 }]));
          ok(await store.finishAttempt(c, { kind: 'succeeded' }));
        }
        // Timing is for the reader (bench/ measures it properly); the test checks the outcome.
        t.diagnostic(`${((performance.now() - started) / n).toFixed(3)} ms per job lifecycle`);
        const page = await store.listJobs({ state: 'succeeded', limit: 1_000 });
        assert.equal(page.jobs.length, n);
      } finally {
        await store.close();
      }
    });
  });
}
