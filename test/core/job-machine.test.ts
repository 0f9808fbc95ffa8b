import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jobSnapshot, transition, type Effect, type JobEvent, type JobSnapshot, type TaskSnapshot } from '../../src/core/job-machine.js';
import { backoffMs } from '../../src/core/backoff.js';
import { isJobEnded, isTaskTerminal, type AttemptOutcome } from '../../src/core/states.js';

const policy = (limit: number) => ({ limit, initialMs: 1000, factor: 2, maxMs: 5000 });

function job(tasks: Record<string, { needs?: string[]; limit?: number }>): JobSnapshot {
  const out = new Map<string, TaskSnapshot>();
  for (const [name, t] of Object.entries(tasks)) {
    out.set(name, { state: 'pending', needs: t.needs ?? [], retry: policy(t.limit ?? 0), attempts: 0, attemptsBase: 0 });
  }
  return jobSnapshot(out);
}

function step(j: JobSnapshot, e: JobEvent, now = 0): { next: JobSnapshot; effects: Effect[] } {
  const r = transition(j, e, now);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return { next: r.next, effects: r.effects };
}

test('backoff grows by factor and is capped', () => {
  const p = { initialMs: 100, factor: 3, maxMs: 1000 };
  assert.deepEqual([0, 1, 2, 3, 10].map((n) => backoffMs(p, n)), [100, 300, 900, 1000, 1000]);
  assert.equal(backoffMs({ initialMs: 1000, factor: 10, maxMs: 5000 }, 400), 5000);
});

test('created: roots are ready with attempt 1, others pending', () => {
  const { next, effects } = step(job({ a: {}, b: { needs: ['a'] } }), { type: 'created' }, 7);
  assert.equal(next.tasks.get('a')?.state, 'ready');
  assert.equal(next.tasks.get('b')?.state, 'pending');
  assert.deepEqual(effects.filter((e) => e.type === 'enqueue_attempt'), [{ type: 'enqueue_attempt', task: 'a', attempt: 1, notBefore: 7 }]);
  assert.equal(next.state, 'queued');
});

test('a failure retries with backoff, then fails the dependants upstream', () => {
  let j = step(job({ a: { limit: 1 }, b: { needs: ['a'] } }), { type: 'created' }).next;
  j = step(j, { type: 'attempt_claimed', task: 'a', attempt: 1 }).next;
  assert.equal(j.state, 'running');
  let r = step(j, { type: 'attempt_ended', task: 'a', attempt: 1, outcome: { kind: 'exited', code: 3 } }, 100);
  assert.equal(r.next.tasks.get('a')?.state, 'retrying');
  assert.deepEqual(r.effects.find((e) => e.type === 'enqueue_attempt'), { type: 'enqueue_attempt', task: 'a', attempt: 2, notBefore: 1100 });
  j = step(r.next, { type: 'attempt_claimed', task: 'a', attempt: 2 }).next;
  r = step(j, { type: 'attempt_ended', task: 'a', attempt: 2, outcome: { kind: 'exited', code: 3 } });
  assert.equal(r.next.tasks.get('a')?.state, 'failed');
  assert.equal(r.next.tasks.get('b')?.state, 'upstream_failed');
  assert.equal(r.next.state, 'failed');
});

test('cancel drops queued attempts, stops running ones, and ends when they end', () => {
  let j = step(job({ a: {}, b: {}, c: { needs: ['a'] } }), { type: 'created' }).next;
  j = step(j, { type: 'attempt_claimed', task: 'a', attempt: 1 }).next;
  const r = step(j, { type: 'cancel', reason: 'user' });
  assert.deepEqual(r.effects.filter((e) => e.type === 'drop_attempt' || e.type === 'stop_attempt'), [
    { type: 'stop_attempt', task: 'a', attempt: 1, reason: 'user' },
    { type: 'drop_attempt', task: 'b', attempt: 1 },
  ]);
  assert.equal(r.next.state, 'running');
  const end = step(r.next, { type: 'attempt_ended', task: 'a', attempt: 1, outcome: { kind: 'signaled', signal: 15, signalName: 'SIGTERM' } });
  assert.equal(end.next.tasks.get('a')?.state, 'canceled');
  assert.equal(end.next.state, 'canceled');
  assert.equal(transition(end.next, { type: 'cancel', reason: 'again' }, 0).ok, false);
});

test('retry reopens failed work only, with a fresh retry budget', () => {
  let j = step(job({ a: {}, b: { needs: ['a'] }, ok: {} }), { type: 'created' }).next;
  j = step(j, { type: 'attempt_claimed', task: 'ok', attempt: 1 }).next;
  j = step(j, { type: 'attempt_ended', task: 'ok', attempt: 1, outcome: { kind: 'succeeded' } }).next;
  j = step(j, { type: 'attempt_claimed', task: 'a', attempt: 1 }).next;
  j = step(j, { type: 'attempt_ended', task: 'a', attempt: 1, outcome: { kind: 'lost', reason: 'worker lost' } }).next;
  assert.equal(j.state, 'failed');
  const r = step(j, { type: 'retry' });
  assert.equal(r.next.state, 'running');
  assert.equal(r.next.tasks.get('a')?.state, 'ready');
  assert.equal(r.next.tasks.get('a')?.attempts, 2);
  assert.equal(r.next.tasks.get('b')?.state, 'pending');
  assert.equal(r.next.tasks.get('ok')?.state, 'succeeded');
  assert.equal(transition(step(job({ x: {} }), { type: 'created' }).next, { type: 'retry' }, 0).ok, false);
});

test('a stale attempt_ended changes nothing', () => {
  let j = step(job({ a: { limit: 2 } }), { type: 'created' }).next;
  j = step(j, { type: 'attempt_claimed', task: 'a', attempt: 1 }).next;
  j = step(j, { type: 'attempt_ended', task: 'a', attempt: 1, outcome: { kind: 'exited', code: 1 } }).next;
  const r = step(j, { type: 'attempt_ended', task: 'a', attempt: 1, outcome: { kind: 'succeeded' } });
  assert.equal(r.next, j);
  assert.deepEqual(r.effects, []);
});

// ---- properties over random DAGs and random event orders ----

interface Dag { names: string[]; needs: string[][]; limits: number[] }

const dagArb: fc.Arbitrary<Dag> = fc.integer({ min: 1, max: 7 }).chain((n) =>
  fc.record({
    needs: fc.tuple(...Array.from({ length: n }, (_, i) => fc.subarray(Array.from({ length: i }, (_, j) => `t${j}`)))),
    limits: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: n, maxLength: n }),
  }).map(({ needs, limits }) => ({ names: Array.from({ length: n }, (_, i) => `t${i}`), needs, limits })));

const OUTCOMES: AttemptOutcome[] = [
  { kind: 'succeeded' }, { kind: 'succeeded' }, { kind: 'exited', code: 2 },
  { kind: 'lost', reason: 'worker lost' }, { kind: 'timed_out', afterMs: 5 },
];

test('properties hold for random DAGs and event orders', () => {
  fc.assert(fc.property(dagArb, fc.array(fc.nat(), { maxLength: 120 }), (dag, choices) => {
    const spec: Record<string, { needs: string[]; limit: number }> = {};
    dag.names.forEach((name, i) => { spec[name] = { needs: dag.needs[i] ?? [], limit: dag.limits[i] ?? 0 }; });
    let j = job(spec);
    const queued = new Map<string, number>();
    const running = new Map<string, number>();
    const ran = new Set<string>(); // tasks with an attempt claimed since the last retry

    const apply = (e: JobEvent, now: number): boolean => {
      const r = transition(j, e, now);
      if (!r.ok) return false;
      for (const eff of r.effects) {
        if (eff.type === 'enqueue_attempt') {
          assert.ok(!r.next.cancelRequested, 'a canceled job enqueues nothing');
          assert.ok(!queued.has(eff.task) && !running.has(eff.task), `two live attempts of ${eff.task}`);
          queued.set(eff.task, eff.attempt);
        } else if (eff.type === 'drop_attempt') {
          assert.equal(queued.get(eff.task), eff.attempt);
          queued.delete(eff.task);
        }
      }
      j = r.next;
      return true;
    };

    apply({ type: 'created' }, 0);
    let now = 0;
    for (const c of choices) {
      now += 10;
      const kind = c % 10;
      if (kind < 4 && queued.size > 0) {
        const [task, attempt] = [...queued][c % queued.size]!;
        const before = j;
        assert.ok(apply({ type: 'attempt_claimed', task, attempt }, now), 'a queued attempt can be claimed');
        for (const need of before.tasks.get(task)!.needs) assert.equal(before.tasks.get(need)?.state, 'succeeded', `${task} started before ${need} succeeded`);
        assert.ok(!before.cancelRequested, 'a canceled job starts nothing');
        queued.delete(task);
        running.set(task, attempt);
        ran.add(task);
      } else if (kind < 8 && running.size > 0) {
        const [task, attempt] = [...running][c % running.size]!;
        running.delete(task);
        apply({ type: 'attempt_ended', task, attempt, outcome: OUTCOMES[c % OUTCOMES.length]! }, now);
      } else if (kind === 8) {
        apply({ type: 'cancel', reason: 'test' }, now);
      } else if (kind === 9 && apply({ type: 'retry' }, now)) {
        ran.clear();
      }
      for (const [name, t] of j.tasks) {
        assert.ok(t.attempts - t.attemptsBase <= 1 + t.retry.limit, `${name} made too many attempts`);
        if (t.state === 'upstream_failed') {
          assert.ok(!ran.has(name), `${name} ran although a need failed`);
          assert.ok(t.needs.some((n) => ['failed', 'upstream_failed'].includes(j.tasks.get(n)!.state)));
        }
      }
      const allTerminal = [...j.tasks.values()].every((t) => isTaskTerminal(t.state));
      assert.equal(isJobEnded(j.state), allTerminal, `job ${j.state} with tasks ${JSON.stringify([...j.tasks.values()].map((t) => t.state))}`);
      if (allTerminal) assert.equal(queued.size + running.size, 0);
    }
    // Driving every live attempt to success always ends the job.
    for (let guard = 0; guard < 100 && (queued.size || running.size); guard++) {
      for (const [task, attempt] of [...queued]) { queued.delete(task); if (apply({ type: 'attempt_claimed', task, attempt }, now)) running.set(task, attempt); }
      for (const [task, attempt] of [...running]) { running.delete(task); apply({ type: 'attempt_ended', task, attempt, outcome: { kind: 'succeeded' } }, now); }
    }
    assert.ok(isJobEnded(j.state), `job stuck in ${j.state}`);
  }), { numRuns: 500, seed: 5255 });
});
