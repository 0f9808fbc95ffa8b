// The worker registry on both stores: register (an upsert), heartbeat, list, unregister, and
// liveness judged on the store's own (here injected) clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isLive, LIVENESS_BEATS, WORKER_HEARTBEAT_MS, type WorkerInfo, type WorkerRegistry } from '../../src/store/workers.js';
import { withWaiting, workerViews } from '../../src/api/workers.js';
import { Clock, dialects, spec, type TestStore } from './helpers.js';

function registry(store: TestStore): WorkerRegistry {
  const r = (store as TestStore & { workers?: WorkerRegistry }).workers;
  assert.ok(r, 'the store has a worker registry');
  return r;
}

const w1: WorkerInfo = { id: 'w-1', host: 'node-a', pid: 101, backends: ['local', 'docker'], labels: { zone: 'a' }, capacity: 8, startedAt: 1_000 };
const w2: WorkerInfo = { id: 'w-2', host: 'node-b', pid: 202, backends: ['kubernetes'], labels: {}, capacity: 2, startedAt: 2_000 };

for (const d of dialects) {
  describe(`${d.name}: worker registry`, () => {
    it('registers, beats, lists and unregisters, stamping times with the store clock', async () => {
      const clock = new Clock();
      const store = await d.open(clock);
      try {
        const reg = registry(store);
        assert.deepEqual(await reg.list(), []);
        await reg.register(w2);
        await reg.register(w1);
        const t0 = clock.t;
        assert.equal(reg.now(), t0);
        assert.deepEqual(await reg.list(), [
          { ...w1, running: 0, lastSeenAt: t0 },
          { ...w2, running: 0, lastSeenAt: t0 },
        ]);
        clock.advance(1_234);
        assert.equal(await reg.heartbeat('w-1', 3), true);
        const [first] = await reg.list();
        assert.deepEqual(first, { ...w1, running: 3, lastSeenAt: t0 + 1_234 });
        assert.equal(await reg.heartbeat('w-unknown', 1), false, 'an unknown worker is told to register again');
        assert.equal(await reg.unregister('w-2'), true);
        assert.equal(await reg.unregister('w-2'), false);
        assert.deepEqual((await reg.list()).map((w) => w.id), ['w-1']);
      } finally {
        await store.close();
      }
    });

    it('register again replaces the row (a restarted worker with the same id)', async () => {
      const clock = new Clock();
      const store = await d.open(clock);
      try {
        const reg = registry(store);
        await reg.register(w1);
        assert.equal(await reg.heartbeat('w-1', 5), true);
        clock.advance(10);
        await reg.register({ ...w1, pid: 999, backends: ['local'], labels: { zone: 'b' }, startedAt: 5_000 });
        assert.deepEqual(await reg.list(), [{
          ...w1, pid: 999, backends: ['local'], labels: { zone: 'b' }, startedAt: 5_000, running: 5, lastSeenAt: clock.t,
        }]);
      } finally {
        await store.close();
      }
    });

    it('liveness: live within 3 heartbeat intervals of the last beat, then not', async () => {
      const clock = new Clock();
      const store = await d.open(clock);
      try {
        const reg = registry(store);
        await reg.register(w1);
        const live = async (): Promise<boolean | undefined> => workerViews(await reg.list(), reg.now(), 200)[0]?.live;
        assert.equal(await live(), true);
        clock.advance(LIVENESS_BEATS * 200);
        assert.equal(await live(), true, 'exactly at the edge');
        clock.advance(1);
        assert.equal(await live(), false);
        await reg.heartbeat('w-1', 0);
        assert.equal(await live(), true, 'a beat makes it live again');
        assert.equal(isLive({ lastSeenAt: 0 }, LIVENESS_BEATS * WORKER_HEARTBEAT_MS), true, 'the default interval');
      } finally {
        await store.close();
      }
    });

    it('a claimable queued task says why it waits when no live worker runs its backend', async () => {
      const clock = new Clock();
      const store = await d.open(clock);
      try {
        const reg = registry(store);
        const job = await store.createJob(spec({ a: {}, b: { backend: 'docker', image: 'busybox' } }), { defaultBackend: 'local' });
        const read = async (): Promise<Record<string, string | undefined>> => {
          const view = await store.getJob(job.id);
          assert.ok(view);
          return Object.fromEntries((await withWaiting(view, reg, 200)).tasks.map((t) => [t.name, t.waiting]));
        };
        assert.deepEqual(await read(), {
          a: 'no live worker runs the local backend (no live workers)',
          b: 'no live worker runs the docker backend (no live workers)',
        });
        await reg.register({ ...w1, backends: ['local'] });
        assert.deepEqual(await read(), { a: undefined, b: 'no live worker runs the docker backend (live workers: w-1 local)' });
        clock.advance(LIVENESS_BEATS * 200 + 1);
        assert.deepEqual(await read(), {
          a: 'no live worker runs the local backend (no live workers)',
          b: 'no live worker runs the docker backend (no live workers)',
        });
        await store.cancelJob(job.id, 'done');
        assert.deepEqual(await read(), { a: undefined, b: undefined }, 'nothing waits in a canceled job');
      } finally {
        await store.close();
      }
    });
  });
}
