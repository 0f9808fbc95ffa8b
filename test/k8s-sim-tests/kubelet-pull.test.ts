// The simulator's kubelet pulling images: ErrImagePull then ImagePullBackOff (pods/02 and 03),
// from the failImagePull fault and from a loopback port that refuses; a private registry on
// loopback (Debian's docker-registry, htpasswd) reached with the pod's imagePullSecrets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { jsonLines } from '../../src/docker/streams.js';
import { startRegistry, type TestRegistry } from '../infra/registry.js';
import { pod, sh, testbed, type Testbed } from '../k8s-sim/kubelet/testbed.js';
import type { PodStatus } from '../k8s-sim/types.js';

const USER = 'puller';
const PASSWORD = 'pw-k8s-sim-71c2'; // test-only

const waiting = (s: PodStatus): { reason?: string; message?: string } | undefined => s.containerStatuses?.[0]?.state?.waiting;
const reasonIs = (r: string) => (s: PodStatus): boolean => waiting(s)?.reason === r;

describe('k8s-sim kubelet: image pulls', () => {
  let tb: Testbed;
  let registry: TestRegistry;
  let image = '';

  before(async () => {
    tb = await testbed();
    registry = await startRegistry({ auth: 'htpasswd', users: { [USER]: PASSWORD } });
    image = `${registry.host}/k8s-sim/busybox:1`;
    const auth = Buffer.from(JSON.stringify({ username: USER, password: PASSWORD, serveraddress: registry.host })).toString('base64url');
    await tb.engine.request('POST', `/images/${tb.busybox}/tag`, { query: { repo: `${registry.host}/k8s-sim/busybox`, tag: '1' } });
    const push = await tb.engine.stream('POST', `/images/${registry.host}/k8s-sim/busybox/push`, { query: { tag: '1' }, headers: { 'X-Registry-Auth': auth } });
    for await (const line of jsonLines(push)) void line;
    await tb.engine.request('DELETE', `/images/${image}`); // only the registry has it now
  });

  after(async () => {
    await tb?.engine.request('DELETE', `/images/${image}`, { query: { force: true } }).catch(() => undefined);
    await tb?.close();
    await registry?.stop();
  });

  it('reports ErrImagePull, then ImagePullBackOff with the last error, from failImagePull', async () => {
    tb.kubelet.faults.failImagePull(/^127\.0\.0\.1:1\/fault\//, 'rpc error: code = NotFound desc = failed to pull and unpack image "127.0.0.1:1/fault/x:1": not found');
    tb.run(pod('fault', [{ name: 'main', image: '127.0.0.1:1/fault/x:1' }]));
    const e = await tb.host.waitFor('default', 'fault', reasonIs('ErrImagePull'));
    assert.deepEqual(Object.keys(e), ['phase', 'conditions', 'hostIP', 'hostIPs', 'podIP', 'podIPs', 'startTime', 'containerStatuses', 'qosClass']);
    assert.equal(e.phase, 'Pending');
    assert.deepEqual(e.conditions?.map((c) => [c.type, c.status]), [['PodReadyToStartContainers', 'True'], ['Initialized', 'True'], ['Ready', 'False'], ['ContainersReady', 'False'], ['PodScheduled', 'True']]);
    const msg = 'rpc error: code = NotFound desc = failed to pull and unpack image "127.0.0.1:1/fault/x:1": not found';
    assert.deepEqual(e.containerStatuses?.[0], { name: 'main', state: { waiting: { reason: 'ErrImagePull', message: msg } }, lastState: {}, ready: false, restartCount: 0, image: '127.0.0.1:1/fault/x:1', imageID: '', started: false });
    const logs = await tb.kubelet.logs('default', 'fault', { follow: false, timestamps: false, previous: false });
    assert.ok(!(logs instanceof Readable));
    assert.deepEqual(logs, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'container "main" in pod "fault" is waiting to start: image can\'t be pulled', reason: 'BadRequest', code: 400 });

    const b = await tb.host.waitFor('default', 'fault', reasonIs('ImagePullBackOff'));
    assert.equal(waiting(b)?.message, `Back-off pulling image "127.0.0.1:1/fault/x:1": ErrImagePull: ${msg}`);
    assert.equal(b.phase, 'Pending');
    const again = await tb.kubelet.logs('default', 'fault', { follow: false, timestamps: false, previous: false });
    assert.equal(again instanceof Readable ? '' : again.message, 'container "main" in pod "fault" is waiting to start: trying and failing to pull image');
    // It keeps trying: ErrImagePull comes back after the back-off.
    const n = tb.host.statuses('default', 'fault').length;
    await tb.host.waitFor('default', 'fault', (s) => reasonIs('ErrImagePull')(s) && tb.host.statuses('default', 'fault').indexOf(s) >= n);

    // Deleted while it waits: the container never ran, so it cannot be found (status_manager TerminatePod).
    tb.kubelet.terminate('default', 'fault', 30);
    await tb.host.waitRemoved('default', 'fault');
    const last = tb.host.statuses('default', 'fault').at(-1);
    assert.equal(last?.phase, 'Failed');
    assert.deepEqual(last?.containerStatuses?.[0]?.state, { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated' } });
  });

  it('reports the engine\'s error for a registry port that refuses', async () => {
    tb.run(pod('refused', [{ name: 'main', image: '127.0.0.1:9/k8s-sim/none:1' }]));
    const e = await tb.host.waitFor('default', 'refused', reasonIs('ErrImagePull'));
    assert.match(waiting(e)?.message ?? '', /^rpc error: code = Unknown desc = Error response from daemon: .*127\.0\.0\.1:9.*connection refused/);
    const b = await tb.host.waitFor('default', 'refused', reasonIs('ImagePullBackOff'));
    assert.equal(waiting(b)?.message, `Back-off pulling image "127.0.0.1:9/k8s-sim/none:1": ErrImagePull: ${waiting(e)?.message ?? ''}`);
  });

  it('cannot pull from the private registry without a pull secret, nor with a wrong one', async () => {
    tb.run(pod('anon', [{ name: 'main', image }]));
    const a = await tb.host.waitFor('default', 'anon', reasonIs('ErrImagePull'));
    assert.match(waiting(a)?.message ?? '', /no basic auth credentials/);
    tb.host.addSecret('default', 'wrong', { '.dockerconfigjson': JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`${USER}:nope`).toString('base64') } } }) }, 'kubernetes.io/dockerconfigjson');
    tb.run(pod('wrongpw', [{ name: 'main', image }], { imagePullSecrets: [{ name: 'wrong' }] }));
    const w = await tb.host.waitFor('default', 'wrongpw', reasonIs('ErrImagePull'));
    assert.match(waiting(w)?.message ?? '', /unauthorized|authentication required/i);
  });

  it('pulls with the pod\'s imagePullSecrets and reports the runtime\'s image names', async () => {
    tb.host.addSecret('default', 'pull', { '.dockerconfigjson': JSON.stringify({ auths: { [`http://${registry.host}`]: { username: USER, password: PASSWORD } } }) }, 'kubernetes.io/dockerconfigjson');
    tb.run(pod('authed', [sh(image, 'echo pulled')], { imagePullSecrets: [{ name: 'missing' }, { name: 'pull' }] }));
    const s = await tb.phase('authed', 'Succeeded', 'Failed');
    assert.equal(s.phase, 'Succeeded');
    assert.equal(await tb.output('authed'), 'pulled\n');
    const c = s.containerStatuses?.[0];
    assert.equal(c?.image, image);
    assert.match(c?.imageID ?? '', new RegExp(`^${registry.host.replace(/\./g, '\\.')}/k8s-sim/busybox@sha256:[0-9a-f]{64}$`));
    for (const st of [...tb.host.statuses('default', 'anon'), ...tb.host.statuses('default', 'wrongpw')]) {
      assert.doesNotMatch(JSON.stringify(st), new RegExp(PASSWORD));
    }
  });
});
