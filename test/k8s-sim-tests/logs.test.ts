// pods/log: client-node's Log with follow against the fake kubelet, and the error answers the
// API server gives before streaming (container waiting, unknown or ambiguous container, no node).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ApiException, Log } from '@kubernetes/client-node';
import { EventLog, NS, openStream, pod, raw, reference, setup, type Env } from '../k8s-sim/testing/helpers.js';

function collect(stream: PassThrough): { text: EventLog<string>; done: Promise<void> } {
  const text = new EventLog<string>();
  stream.setEncoding('utf8');
  stream.on('data', (c: string) => text.push(c));
  return { text, done: new Promise((r) => stream.on('finish', () => r())) };
}

describe('k8s-sim: pods/log', () => {
  let env: Env;
  before(async () => { env = await setup(); });
  after(() => env.sim.stop());

  it('follows a running container until its output ends', async () => {
    await env.core.createNamespacedPod({ namespace: NS, body: pod('lg') });
    env.fake.writeLog(NS, 'lg', 'main', 'one\n');
    const out = new PassThrough();
    const { text, done } = collect(out);
    await new Log(env.kc).log(NS, 'lg', 'main', out, { follow: true });
    await text.until((t) => t.join('') === 'one\n', 'the buffered line');
    env.fake.writeLog(NS, 'lg', 'main', 'two\n');
    await text.until((t) => t.join('') === 'one\ntwo\n', 'the followed line');
    env.fake.endLog(NS, 'lg', 'main');
    await done;
    assert.equal(text.items.join(''), 'one\ntwo\n');
    const again = await raw(env.sim, 'GET', `/api/v1/namespaces/${NS}/pods/lg/log?container=main`);
    assert.equal(again.status, 200);
    assert.equal(again.headers['content-type'], 'text/plain');
    assert.equal(again.text, 'one\ntwo\n');
  });

  it('answers 400 while the container waits, with the real body (client-node drops it)', async () => {
    const env2 = await setup({ fake: { autoRun: false } });
    try {
      await env2.core.createNamespacedPod({ namespace: NS, body: pod('task-7f9c') });
      env2.fake.bind(NS, 'task-7f9c');
      const r = await raw(env2.sim, 'GET', `/api/v1/namespaces/${NS}/pods/task-7f9c/log?container=main&follow=true`);
      assert.equal(r.status, 400);
      assert.deepEqual(r.json(), reference('errors/400-log-container-waiting.json'));
      try {
        await new Log(env2.kc).log(NS, 'task-7f9c', 'main', new PassThrough(), { follow: true });
        assert.fail('expected a 400');
      } catch (e) {
        assert.ok(e instanceof ApiException);
        assert.equal(e.code, 400);
      }
    } finally {
      await env2.sim.stop();
    }
  });

  it('answers an empty 200 for a pod not yet on a node', async () => {
    const env2 = await setup({ fake: { autoRun: false } });
    try {
      await env2.core.createNamespacedPod({ namespace: NS, body: pod('unbound') });
      const r = await raw(env2.sim, 'GET', `/api/v1/namespaces/${NS}/pods/unbound/log`);
      assert.deepEqual([r.status, r.text], [200, '']);
    } finally {
      await env2.sim.stop();
    }
  });

  it('resolves the container as the API server does', async () => {
    const two = pod('two');
    two.spec?.containers.push({ name: 'side', image: 'busybox' });
    await env.core.createNamespacedPod({ namespace: NS, body: two });
    const none = await raw(env.sim, 'GET', `/api/v1/namespaces/${NS}/pods/two/log`);
    assert.equal(none.status, 400);
    assert.equal((none.json() as { message: string }).message, 'a container name must be specified for pod two, choose one of: [main side]');
    const bad = await raw(env.sim, 'GET', `/api/v1/namespaces/${NS}/pods/two/log?container=nope`);
    assert.equal((bad.json() as { message: string }).message, 'container nope is not valid for pod two');
    const missing = await raw(env.sim, 'GET', `/api/v1/namespaces/${NS}/pods/gone/log`);
    assert.equal(missing.status, 404);
    const neg = await raw(env.sim, 'GET', `/api/v1/namespaces/${NS}/pods/two/log?container=main&tailLines=-1`);
    assert.equal(neg.status, 422);
    assert.equal((neg.json() as { message: string }).message, 'PodLogOptions "two" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0');
  });

  it('restart() cuts a followed log; the kubelet stream is closed', async () => {
    await env.core.createNamespacedPod({ namespace: NS, body: pod('cut') });
    env.fake.writeLog(NS, 'cut', 'main', 'x\n');
    const s = openStream(env.sim, `/api/v1/namespaces/${NS}/pods/cut/log?container=main&follow=true`);
    assert.equal(await s.status, 200);
    await s.lines.until((l) => l.includes('x'), 'the first line');
    const followerClosed = once(env.fake, 'log-follower-closed');
    env.sim.faults.restart();
    assert.equal(await s.ended, 'aborted');
    assert.deepEqual(await followerClosed, [`${NS}/cut/main`]);
  });
});
