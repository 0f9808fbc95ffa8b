// What one simple task costs the API server: an informer (list + watch), then create → follow the
// log → the pod ends → delete, counted by the simulator.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Log, makeInformer, type V1Pod } from '@kubernetes/client-node';
import { EventLog, NS, pod, setup, type Env } from '../k8s-sim/testing/helpers.js';

describe('k8s-sim: request counts', () => {
  let env: Env;
  before(async () => { env = await setup(); });
  after(() => env.sim.stop());

  it('counts a create → watch → log → delete flow', async (t) => {
    const seen = new EventLog<string>();
    const informer = makeInformer(env.kc, `/api/v1/namespaces/${NS}/pods`, () => env.core.listNamespacedPod({ namespace: NS, labelSelector: 'app=task' }), 'app=task');
    informer.on('update', (p: V1Pod) => seen.push(`update ${p.status?.phase ?? ''}`));
    informer.on('delete', () => seen.push('delete'));
    await informer.start();
    try {
      await env.core.createNamespacedPod({ namespace: NS, body: pod('job-1') });
      await seen.until((e) => e.includes('update Running'), 'Running');
      const out = new PassThrough();
      const ended = new Promise<void>((r) => out.on('finish', () => r()));
      out.resume();
      await new Log(env.kc).log(NS, 'job-1', 'main', out, { follow: true });
      env.fake.writeLog(NS, 'job-1', 'main', 'done\n');
      env.fake.exit(NS, 'job-1', 0);
      await ended;
      await seen.until((e) => e.includes('update Succeeded'), 'Succeeded');
      await env.core.deleteNamespacedPod({ namespace: NS, name: 'job-1' });
      await seen.until((e) => e.includes('delete'), 'the delete');
    } finally {
      await informer.stop();
    }
    const c = env.sim.counts.snapshot();
    t.diagnostic(`requests: ${JSON.stringify(c.requests)}; watch events: ${JSON.stringify(c.watchEventsByType)}`);
    assert.deepEqual(c.requests, { 'list pods': 1, 'watch pods': 1, 'create pods': 1, 'get pods/log': 1, 'delete pods': 1 });
    // ADDED; MODIFIED: bound, running, succeeded; DELETED (a finished pod is removed at once, after
    // the MODIFIED that marks it)
    assert.deepEqual(c.watchEventsByType, { ADDED: 1, MODIFIED: 4, DELETED: 1 });
  });
});
