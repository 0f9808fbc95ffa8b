// client-node 1.4's informer (ListWatch) against the simulator: every add/update/delete is seen
// once, across a dropped watch, an expired (410) watch — which relists — and a server restart.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { makeInformer, type Informer, type V1Pod } from '@kubernetes/client-node';
import { EventLog, NS, pod, setup, type Env } from '../k8s-sim/testing/helpers.js';

type Seen = { op: 'add' | 'update' | 'delete'; name: string; rv: string };

describe('k8s-sim: informer (ListWatch)', () => {
  let env: Env;
  let informer: Informer<V1Pod> & { stop(): Promise<void> };
  let seen: EventLog<Seen>;
  let errors: unknown[];
  let stopping = false;

  before(async () => { env = await setup(); });
  after(() => env.sim.stop());
  afterEach(async () => {
    stopping = true;
    await informer.stop();
    for (const p of env.sim.pods(NS)) env.sim.faults.deletePod(NS, p.metadata?.name ?? '');
  });

  async function startInformer(): Promise<void> {
    const log = new EventLog<Seen>();
    const errs: unknown[] = [];
    const inf = makeInformer(env.kc, `/api/v1/namespaces/${NS}/pods`, () => env.core.listNamespacedPod({ namespace: NS }));
    for (const op of ['add', 'update', 'delete'] as const) {
      inf.on(op, (p: V1Pod) => log.push({ op, name: p.metadata?.name ?? '', rv: p.metadata?.resourceVersion ?? '' }));
    }
    // client-node stops on any error but a 410; a caller restarts it (as Wharf's pod watch does)
    inf.on('error', (e: unknown) => {
      if (stopping) return;
      errs.push(e);
      setImmediate(() => { void inf.start(); });
    });
    stopping = false;
    [informer, seen, errors] = [inf, log, errs];
    await inf.start();
  }

  /** Events after index `from`, as `op name`. */
  const tail = (from: number): string[] => seen.items.slice(from).map((s) => `${s.op} ${s.name}`);

  async function twoRunningPods(): Promise<number> {
    await env.core.createNamespacedPod({ namespace: NS, body: pod('a') });
    await env.core.createNamespacedPod({ namespace: NS, body: pod('b') });
    await seen.until((e) => e.filter((x) => x.op === 'update').length === 4, 'a and b bound and running');
    return seen.items.length;
  }

  it('sees add, update and delete', async () => {
    await startInformer();
    await env.core.createNamespacedPod({ namespace: NS, body: pod('x') });
    await seen.until((e) => e.length === 3, 'add + bind + run');
    await env.core.deleteNamespacedPod({ namespace: NS, name: 'x' });
    await seen.until((e) => e.some((s) => s.op === 'delete'), 'delete');
    assert.deepEqual(tail(0), ['add x', 'update x', 'update x', 'update x', 'update x', 'delete x']);
    assert.equal(new Set(seen.items.map((s) => s.rv)).size, seen.items.length, 'no resourceVersion twice');
  });

  it('loses and repeats nothing when its watch is dropped', async () => {
    await startInformer();
    const mark = await twoRunningPods();
    const listsBefore = env.sim.counts.get('list pods');
    env.sim.faults.dropWatches();
    // changes while the watch is down
    env.fake.exit(NS, 'a', 0);
    env.sim.faults.deletePod(NS, 'b');
    await env.core.createNamespacedPod({ namespace: NS, body: pod('c') });
    await seen.until((e) => e.filter((x) => x.name === 'c').length === 3, 'c added, bound and running');
    assert.deepEqual(tail(mark), ['update a', 'update b', 'delete b', 'add c', 'update c', 'update c']);
    assert.equal(new Set(seen.items.map((s) => `${s.op}${s.rv}`)).size, seen.items.length, 'nothing twice');
    assert.equal(env.sim.counts.get('list pods'), listsBefore, 'resumed from its resourceVersion, no relist');
    // an abrupt end is not a clean close for client-node 1.4: the informer reports it and stops
    assert.deepEqual(errors.map((e) => String(e)), ['Error: Premature close']);
  });

  it('relists after expireWatches (410) and still loses and repeats nothing', async () => {
    await startInformer();
    const mark = await twoRunningPods();
    const listsBefore = env.sim.counts.get('list pods');
    env.sim.faults.expireWatches();
    env.fake.exit(NS, 'a', 1);
    env.sim.faults.deletePod(NS, 'b');
    await seen.until((e) => e.length >= mark + 2, 'the relist diff');
    assert.deepEqual(tail(mark), ['delete b', 'update a'], 'the relist reports the net change once');
    assert.equal(env.sim.counts.get('list pods'), listsBefore + 1);
    await env.core.createNamespacedPod({ namespace: NS, body: pod('c') });
    await seen.until((e) => e.some((x) => x.op === 'add' && x.name === 'c'), 'c after the relist');
    assert.deepEqual(errors, []);
  });

  it('recovers after restart() drops every connection', async () => {
    await startInformer();
    const mark = await twoRunningPods();
    env.sim.faults.restart();
    env.fake.exit(NS, 'b', 0);
    await seen.until((e) => e.length > mark, 'the change made during the restart');
    assert.deepEqual(tail(mark), ['update b']);
    assert.ok(env.sim.counts.get('watch pods') >= 2);
  });
});
