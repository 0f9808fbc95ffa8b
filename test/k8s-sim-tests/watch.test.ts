// The watch protocol on the wire (k8s-reference §2): initial ADDED, resuming from an RV, 410 as
// HTTP 200 + one ERROR line + EOF, selector transitions, bookmarks, timeouts, both URL forms, and
// client-node's Watch.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Watch } from '@kubernetes/client-node';
import { EventLog, NS, openStream, pod, reference, setup, type Env } from '../k8s-sim/testing/helpers.js';

const PODS = `/api/v1/namespaces/${NS}/pods`;

describe('k8s-sim: watch', () => {
  let env: Env;
  before(async () => { env = await setup({ historyLimit: 5 }); });
  after(() => env.sim.stop());
  beforeEach(async () => {
    for (const p of env.sim.pods(NS)) await env.core.deleteNamespacedPod({ namespace: NS, name: p.metadata?.name ?? '', gracePeriodSeconds: 0 });
  });

  it('without a resourceVersion sends ADDED for current objects, then every change; DELETED carries the delete RV', async () => {
    await env.core.createNamespacedPod({ namespace: NS, body: pod('w1') });
    const s = openStream(env.sim, `${PODS}?watch=true`);
    try {
      assert.equal(await s.status, 200);
      await s.events.until((e) => e.length === 1, 'the initial ADDED');
      assert.equal(s.events.items[0]?.type, 'ADDED');
      assert.equal(s.events.items[0]?.object['kind'], 'Pod', 'watch objects carry kind');
      await env.core.deleteNamespacedPod({ namespace: NS, name: 'w1' });
      await s.events.until((e) => e.some((x) => x.type === 'DELETED'), 'DELETED');
      const types = s.events.items.map((e) => e.type);
      assert.deepEqual(types, ['ADDED', 'MODIFIED', 'MODIFIED', 'DELETED'], 'graceful delete: marked, final grace-0 delete, gone');
      const rvs = s.events.items.map((e) => Number(e.object.metadata?.['resourceVersion']));
      assert.deepEqual([...rvs].sort((a, b) => a - b), rvs, 'RVs only grow');
      const marked = s.events.items[1]?.object.metadata;
      assert.equal(marked?.['deletionGracePeriodSeconds'], 30);
      assert.equal(s.events.items[3]?.object.metadata?.['deletionGracePeriodSeconds'], 0);
    } finally {
      s.close();
    }
  });

  it('from a resourceVersion replays only later changes, on both URL forms', async () => {
    const created = await env.core.createNamespacedPod({ namespace: NS, body: pod('w2') });
    const rv = created.metadata?.resourceVersion ?? '';
    const a = openStream(env.sim, `${PODS}?watch=1&resourceVersion=${rv}`);
    const b = openStream(env.sim, `/api/v1/watch/namespaces/${NS}/pods/w2?resourceVersion=${rv}`);
    try {
      for (const s of [a, b]) {
        await s.events.until((e) => e.length >= 1, 'the replayed bind');
        assert.equal(s.events.items[0]?.type, 'MODIFIED', 'the fake kubelet bound and ran it after create');
        assert.ok(Number(s.events.items[0]?.object.metadata?.['resourceVersion']) > Number(rv));
      }
    } finally {
      a.close();
      b.close();
    }
  });

  it('answers a too-old resourceVersion with HTTP 200, one ERROR (410 Expired) line, then EOF', async () => {
    for (let i = 0; i < 4; i++) await env.core.createNamespacedPod({ namespace: NS, body: pod(`old${i}`) });
    const s = openStream(env.sim, `${PODS}?watch=true&resourceVersion=1`);
    assert.equal(await s.status, 200);
    assert.equal(await s.ended, 'end');
    assert.equal(s.events.items.length, 1);
    const ev = s.events.items[0] as { type: string; object: { message: string } };
    const ref = reference('watch/watch-error-410-expired.ndjson') as { object: { message: string } };
    assert.match(ev.object.message, /^too old resource version: 1 \(\d+\)$/);
    assert.deepEqual({ ...ev, object: { ...ev.object, message: ref.object.message } }, ref);
  });

  it('turns selector transitions into ADDED and DELETED (cacher semantics)', async () => {
    const env2 = await setup({ fake: { autoRun: false } });
    const s = openStream(env2.sim, `${PODS}?watch=true&fieldSelector=status.phase%3DRunning`);
    try {
      await s.status;
      await env2.core.createNamespacedPod({ namespace: NS, body: pod('sel') });
      env2.fake.bind(NS, 'sel');
      env2.fake.run(NS, 'sel');
      await s.events.until((e) => e.length === 1, 'ADDED when it starts running');
      env2.fake.exit(NS, 'sel', 0);
      await s.events.until((e) => e.length === 2, 'DELETED when it leaves Running');
      const [added, gone] = s.events.items;
      assert.equal(added?.type, 'ADDED');
      assert.equal(gone?.type, 'DELETED');
      assert.equal((gone?.object['status'] as { phase: string }).phase, 'Running', 'the previous content');
      const now = env2.sim.pods(NS)[0];
      assert.equal(gone?.object.metadata?.['resourceVersion'], now?.metadata?.resourceVersion, "with the event's RV");
    } finally {
      s.close();
      await env2.sim.stop();
    }
  });

  it('sends BOOKMARKs only to watches that asked, on demand and periodically, in the 1.34 and 1.32 shapes', async () => {
    const asked = openStream(env.sim, `${PODS}?watch=true&allowWatchBookmarks=true`);
    const notAsked = openStream(env.sim, `${PODS}?watch=true`);
    try {
      await Promise.all([asked.status, notAsked.status]);
      env.sim.faults.bookmark();
      await asked.events.until((e) => e.some((x) => x.type === 'BOOKMARK'), 'a bookmark');
      const bm = asked.events.items.find((x) => x.type === 'BOOKMARK');
      const rv = String(bm?.object.metadata?.['resourceVersion']);
      const variants = (await import('../k8s-sim/testing/reference.js')).referenceText('watch/bookmark-variants.ndjson').trim().split('\n').map((l) => JSON.parse(l.replace('"4190"', JSON.stringify(rv))) as unknown);
      assert.deepEqual(bm, variants[1]);
      assert.equal(notAsked.events.items.filter((x) => x.type === 'BOOKMARK').length, 0);
    } finally {
      asked.close();
      notAsked.close();
    }
    const old = await setup({ version: '1.32', bookmarkIntervalMs: 20 });
    const s = openStream(old.sim, `${PODS}?watch=true&allowWatchBookmarks=true&resourceVersion=0`);
    try {
      await s.events.until((e) => e.filter((x) => x.type === 'BOOKMARK').length >= 2, 'two periodic bookmarks');
      assert.equal(s.events.items[0]?.object.metadata?.['creationTimestamp'], null);
    } finally {
      s.close();
      await old.sim.stop();
    }
  });

  it('sendInitialEvents ends the initial ADDEDs with the initial-events-end bookmark', async () => {
    await env.core.createNamespacedPod({ namespace: NS, body: pod('init') });
    const s = openStream(env.sim, `${PODS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`);
    try {
      await s.events.until((e) => e.length === 2, 'ADDED + bookmark');
      assert.deepEqual(s.events.items.map((e) => e.type), ['ADDED', 'BOOKMARK']);
      assert.deepEqual(s.events.items[1]?.object.metadata?.['annotations'], { 'k8s.io/initial-events-end': 'true' });
    } finally {
      s.close();
    }
  });

  it('ends the stream cleanly after timeoutSeconds', async () => {
    const s = openStream(env.sim, `${PODS}?watch=true&timeoutSeconds=1`);
    assert.equal(await s.ended, 'end');
  });

  it('faults: endWatches ends cleanly, dropWatches aborts, expireWatches sends 410 then ends', async () => {
    const a = openStream(env.sim, `${PODS}?watch=true`);
    await a.status;
    env.sim.faults.endWatches();
    assert.equal(await a.ended, 'end');
    const b = openStream(env.sim, `${PODS}?watch=true`);
    await b.status;
    env.sim.faults.dropWatches();
    assert.equal(await b.ended, 'aborted');
    const c = openStream(env.sim, `${PODS}?watch=true`);
    await c.status;
    env.sim.faults.expireWatches();
    assert.equal(await c.ended, 'end');
    assert.equal(c.events.items.at(-1)?.type, 'ERROR');
    assert.equal((c.events.items.at(-1)?.object as { code: number }).code, 410);
  });

  it("client-node's Watch receives events and bookmarks", async () => {
    const got = new EventLog<{ type: string; rv: string }>();
    const w = new Watch(env.kc);
    let done!: (e: unknown) => void;
    const finished = new Promise((r) => { done = r; });
    const ctl = await w.watch(PODS, { allowWatchBookmarks: true }, (type, obj: { metadata?: { resourceVersion?: string } }) => {
      got.push({ type, rv: obj.metadata?.resourceVersion ?? '' });
    }, (err) => done(err));
    await env.core.createNamespacedPod({ namespace: NS, body: pod('cw') });
    await got.until((e) => e.some((x) => x.type === 'ADDED'), 'ADDED');
    env.sim.faults.bookmark();
    await got.until((e) => e.some((x) => x.type === 'BOOKMARK'), 'BOOKMARK');
    ctl.abort();
    await finished;
  });
});
