// The backend's informer in a busy namespace: other pods move the watch cache's window along while
// Wharf's own pods are quiet. Bookmarks keep its resourceVersion recent, so a watch resumed (at the
// server's timeout, or after a break) carries on instead of meeting 410 Gone and relisting.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { NAMESPACE, setup, until, type KCtx } from './kubernetes-helpers.js';

describe('kubernetes backend: the watch in a busy namespace', () => {
  let ctx: KCtx;
  before(async () => { ctx = await setup('watch', {}, { historyLimit: 3 }); });
  after(() => ctx.cleanup());

  it('resumes from a bookmark after the window moved past its last event: no 410, no relist', async () => {
    await ctx.backend.listOwned({}); // listed and watching
    const api = ctx.kubeConfig().makeApiClient(CoreV1Api);
    // Someone else's pods, more changes than the history keeps (they stay Pending: no node fits).
    for (let i = 0; i < 5; i++) {
      await api.createNamespacedPod({
        namespace: NAMESPACE,
        body: {
          metadata: { name: `foreign-${i}`, labels: { app: 'other' } },
          spec: { containers: [{ name: 'c', image: ctx.docker.busybox, command: ['true'], resources: { requests: { memory: '1Ti' } } }] },
        },
      });
    }
    const before = ctx.sim.counts.snapshot();
    ctx.sim.faults.bookmark();
    ctx.sim.faults.endWatches(); // as the server's timeoutSeconds does; the bookmark came first
    await until('the watch resumed', () => ctx.sim.counts.get('watch pods') > (before.requests['watch pods'] ?? 0));
    const now = ctx.sim.counts.snapshot();
    assert.equal(now.watchEventsByType['BOOKMARK'], (before.watchEventsByType['BOOKMARK'] ?? 0) + 1, 'the watch asked for bookmarks');
    assert.equal(now.watchEventsByType['ERROR'] ?? 0, 0, 'no 410');
    assert.equal(now.requests['list pods'], before.requests['list pods'], 'no relist');

    // And its pods are still followed.
    const ended = ctx.rec.ended('after-resume');
    await ctx.backend.start(ctx.req('after-resume', ['sh', '-c', 'exit 5']));
    assert.deepEqual(await ended, { kind: 'exited', code: 5 });
    await ctx.backend.remove('after-resume');
  });
});
