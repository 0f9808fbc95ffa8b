// pods/attach over WebSocket with client-node's Attach (v5.channel.k8s.io): stdin reaches the
// container, its output comes back, stdin's end half-closes ([255, 0]), the Success status ends it.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Attach } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { EventLog, NS, pod, setup, type Env } from '../k8s-sim/testing/helpers.js';

describe('k8s-sim: pods/attach', () => {
  let env: Env;
  before(async () => { env = await setup(); });
  after(() => env.sim.stop());

  it('carries stdin to the container and its output back, until stdin ends', async () => {
    await env.core.createNamespacedPod({ namespace: NS, body: pod('att') });
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const out = new EventLog<string>();
    stdout.setEncoding('utf8');
    stdout.on('data', (c: string) => out.push(c));
    const stdoutEnded = new Promise<void>((r) => stdout.on('finish', () => r()));
    const ws = await new Attach(env.kc).attach(NS, 'att', 'main', stdout, null, stdin, false);
    assert.equal(ws.protocol, 'v5.channel.k8s.io');
    const closed = new Promise<void>((r) => ws.on('close', () => r()));
    stdin.write('hello\n');
    await out.until((o) => o.join('') === 'hello\n', 'the echo');
    stdin.end('bye\n');
    await Promise.all([stdoutEnded, closed]);
    assert.equal(out.items.join(''), 'hello\nbye\n');
    assert.equal(env.sim.counts.get('get pods/attach'), 1);
  });

  it('answers errors before the upgrade as plain HTTP Status responses', async () => {
    const status = (path: string, protocols = ['v5.channel.k8s.io']): Promise<number> => new Promise((resolve, reject) => {
      const ws = new WebSocket(`${env.sim.url.replace('https', 'wss')}${path}`, protocols, { ca: env.sim.ca });
      ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); res.resume(); });
      ws.on('open', () => { ws.close(); reject(new Error('upgraded')); });
      ws.on('error', () => { /* reported through unexpected-response */ });
    });
    assert.equal(await status(`/api/v1/namespaces/${NS}/pods/none/attach?stdout=true`), 404);
    await env.core.createNamespacedPod({ namespace: NS, body: pod('att2') });
    assert.equal(await status(`/api/v1/namespaces/${NS}/pods/att2/attach`), 400, 'no stream asked for');
    assert.equal(await status(`/api/v1/namespaces/${NS}/pods/att2/attach?stdout=true`, ['channel.k8s.io']), 400, 'no supported subprotocol');
    assert.equal(await status(`/api/v1/namespaces/${NS}/pods/att2/exec?stdout=true&command=sh`), 400, 'exec is not served');
  });
});
