// The simulator's kubelet: what a container gets from its pod spec (env, secrets, volumes,
// command and args, securityContext) and the statuses of init containers and config errors.
// (stdout and stderr are separate pipes, read by separate copiers: their relative order in a
// log is not the order written, as on a real node, so no test relies on it.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PodStatus } from '../k8s-sim/types.js';
import { pod, sh, testbed, type Testbed } from '../k8s-sim/kubelet/testbed.js';

const term = (s: PodStatus, i = 0): [number | undefined, string | undefined] => {
  const t = s.containerStatuses?.[i]?.state?.terminated;
  return [t?.exitCode, t?.reason];
};

describe('k8s-sim kubelet: container configuration', () => {
  let tb: Testbed;
  before(async () => { tb = await testbed(); });
  after(() => tb.close());

  it('gives env from values, secrets and the pod, with $(VAR) expanded in env and args', async () => {
    tb.host.addSecret('default', 'creds', { token: 's3cret' });
    tb.run(pod('env', [{
      name: 'main', image: tb.busybox,
      command: ['sh', '-c', 'echo "$TOKEN|$B|$POD|$0"', '$(A)'],
      env: [
        { name: 'A', value: 'a' },
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
        { name: 'B', value: '$(A)-$(NOPE)-$$(A)' },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      ],
    }]));
    assert.equal((await tb.phase('env', 'Succeeded', 'Failed')).phase, 'Succeeded');
    assert.equal(await tb.output('env'), 's3cret|a-$(NOPE)-$(A)|env|a\n');
  });

  it('waits with CreateContainerConfigError while a secret or key is missing, and starts once it is there', async () => {
    tb.run(pod('nosecret', [{ name: 'main', image: tb.busybox, command: ['sh', '-c', 'echo $K'], env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 'later', key: 'k' } } }] }]));
    const w = await tb.host.waitFor('default', 'nosecret', (s) => s.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError');
    assert.equal(w.phase, 'Pending');
    assert.deepEqual(w.containerStatuses?.[0]?.state, { waiting: { reason: 'CreateContainerConfigError', message: 'secret "later" not found' } });
    tb.host.addSecret('default', 'later', { other: 'x' });
    await tb.host.waitFor('default', 'nosecret', (s) => s.containerStatuses?.[0]?.state?.waiting?.message === "couldn't find key k in Secret default/later");
    tb.host.addSecret('default', 'later', { k: 'found' });
    assert.equal((await tb.phase('nosecret', 'Succeeded', 'Failed')).phase, 'Succeeded');
    assert.equal(await tb.output('nosecret'), 'found\n');
  });

  it('mounts a secret volume read-only, with items and modes', async () => {
    tb.host.addSecret('default', 'files', { 'config.json': '{"a":1}', other: 'x' });
    tb.run(pod('secvol', [sh(tb.busybox, 'cat /etc/s/conf/c.json; echo; stat -c %a /etc/s/conf/c.json; ls /etc/s; touch /etc/s/new 2>&1', {
      volumeMounts: [{ name: 's', mountPath: '/etc/s' }],
    })], { volumes: [{ name: 's', secret: { secretName: 'files', items: [{ key: 'config.json', path: 'conf/c.json', mode: 0o400 }] } }] }));
    await tb.phase('secvol', 'Succeeded', 'Failed');
    assert.equal(await tb.output('secvol'), '{"a":1}\n400\nconf\ntouch: /etc/s/new: Read-only file system\n');
  });

  it('shares an emptyDir between two containers, writable by a non-root user', async () => {
    const volumeMounts = [{ name: 'shared', mountPath: '/shared' }];
    tb.run(pod('share', [
      sh(tb.busybox, 'echo hello > /shared/f', { name: 'writer', volumeMounts, securityContext: { runAsUser: 65534 } }),
      sh(tb.busybox, 'while [ ! -f /shared/f ]; do sleep 0.05; done; cat /shared/f; stat -c %u /shared/f', { name: 'reader', volumeMounts }),
    ], { volumes: [{ name: 'shared', emptyDir: {} }] }));
    assert.equal((await tb.phase('share', 'Succeeded', 'Failed')).phase, 'Succeeded');
    assert.equal(await tb.output('share', 'reader'), 'hello\n65534\n');
  });

  it('applies readOnlyRootFilesystem, runAsUser/runAsGroup, dropped capabilities and no privilege escalation', async () => {
    tb.run(pod('hardened', [sh(tb.busybox, 'id -u; id -g; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status; echo x > /tmp/t && cat /tmp/t; touch /nope 2>&1', {
      securityContext: { readOnlyRootFilesystem: true, runAsGroup: 1000, capabilities: { drop: ['ALL'] }, allowPrivilegeEscalation: false },
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
    })], { securityContext: { runAsUser: 65534, runAsNonRoot: true }, volumes: [{ name: 'tmp', emptyDir: {} }] }));
    const s = await tb.phase('hardened', 'Succeeded', 'Failed');
    assert.deepEqual(term(s), [1, 'Error']);
    const out = await tb.output('hardened');
    assert.match(out, /^65534\n1000\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\nx\ntouch: \/nope: Read-only file system\n$/);
  });

  it('refuses runAsNonRoot with an image that runs as root, with the kubelet\'s message', async () => {
    const stored = tb.run(pod('rootimg', [sh(tb.busybox, 'true')], { securityContext: { runAsNonRoot: true } }));
    const s = await tb.host.waitFor('default', 'rootimg', (x) => x.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError');
    assert.equal(s.containerStatuses?.[0]?.state?.waiting?.message, `container has runAsNonRoot and image will run as root (pod: "rootimg_default(${stored.metadata?.uid ?? ''})", container: main)`);
  });

  it('replaces ENTRYPOINT with command (the image CMD dropped) and CMD with args', async () => {
    tb.run(pod('cmd', [{ name: 'main', image: tb.busybox, command: ['echo', 'only'] }]));
    tb.run(pod('args', [{ name: 'main', image: tb.busybox, command: ['sh', '-c', 'echo "$0 $1"'], args: ['x', 'y'] }]));
    await Promise.all([tb.phase('cmd', 'Succeeded', 'Failed'), tb.phase('args', 'Succeeded', 'Failed')]);
    assert.equal(await tb.output('cmd'), 'only\n');
    assert.equal(await tb.output('args'), 'x y\n');
  });

  it('reports a command that cannot start as StartError 128', async () => {
    tb.run(pod('nocmd', [{ name: 'main', image: tb.busybox, command: ['no-such-cmd'] }]));
    const s = await tb.phase('nocmd', 'Succeeded', 'Failed');
    assert.equal(s.phase, 'Failed');
    assert.deepEqual(term(s), [128, 'StartError']);
    assert.match(s.containerStatuses?.[0]?.state?.terminated?.message ?? '', /no-such-cmd/);
  });

  it('takes the termination message from the file, or from the log tail with FallbackToLogsOnError', async () => {
    tb.run(pod('msgfile', [sh(tb.busybox, 'printf "bad input" > /dev/termination-log; exit 4')]));
    tb.run(pod('msglog', [sh(tb.busybox, 'echo first >&2; echo last words >&2; exit 5', { terminationMessagePolicy: 'FallbackToLogsOnError' })]));
    const [f, l] = await Promise.all([tb.phase('msgfile', 'Failed'), tb.phase('msglog', 'Failed')]);
    assert.equal(f.containerStatuses?.[0]?.state?.terminated?.message, 'bad input');
    assert.equal(l.containerStatuses?.[0]?.state?.terminated?.message, 'first\nlast words\n');
  });

  it('runs init containers one after the other before the containers', async () => {
    const volumeMounts = [{ name: 'w', mountPath: '/w' }];
    tb.run(pod('init', [sh(tb.busybox, 'cat /w/order', { volumeMounts })], {
      initContainers: [sh(tb.busybox, 'sleep 0.3; echo 1 >> /w/order', { name: 'one', volumeMounts }), sh(tb.busybox, 'echo 2 >> /w/order', { name: 'two', volumeMounts })],
      volumes: [{ name: 'w', emptyDir: {} }],
    }));
    const s = await tb.phase('init', 'Succeeded', 'Failed');
    assert.equal(s.phase, 'Succeeded');
    assert.equal(await tb.output('init'), '1\n2\n');
    assert.deepEqual(Object.keys(s).slice(-3), ['initContainerStatuses', 'containerStatuses', 'qosClass']);
    assert.deepEqual(s.initContainerStatuses?.map((c) => [c.name, c.state?.terminated?.reason, c.ready]), [['one', 'Completed', true], ['two', 'Completed', true]]);
    const first = tb.host.statuses('default', 'init')[0];
    assert.deepEqual(first?.conditions?.[1], { type: 'Initialized', status: 'False', lastProbeTime: null, lastTransitionTime: first?.conditions?.[1]?.lastTransitionTime, reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [one two]' });
    assert.deepEqual(first?.containerStatuses?.[0]?.state, { waiting: { reason: 'PodInitializing' } });
    const during = await tb.host.waitFor('default', 'init', (x) => x.initContainerStatuses?.[0]?.state?.running !== undefined);
    assert.deepEqual(during.initContainerStatuses?.map((c) => Object.keys(c.state ?? {})[0]), ['running', 'waiting']);
  });

  it('fails the pod when an init container fails, and never starts the containers', async () => {
    tb.run(pod('initfail', [sh(tb.busybox, 'echo never')], { initContainers: [sh(tb.busybox, 'exit 2', { name: 'one' }), sh(tb.busybox, 'true', { name: 'two' })] }));
    const s = await tb.phase('initfail', 'Succeeded', 'Failed');
    assert.equal(s.phase, 'Failed');
    assert.deepEqual(s.initContainerStatuses?.map((c) => c.state), [
      { terminated: { exitCode: 2, reason: 'Error', startedAt: s.initContainerStatuses?.[0]?.state?.terminated?.startedAt, finishedAt: s.initContainerStatuses?.[0]?.state?.terminated?.finishedAt, containerID: s.initContainerStatuses?.[0]?.containerID } },
      { waiting: { reason: 'PodInitializing' } },
    ]);
    assert.deepEqual(s.containerStatuses?.[0]?.state, { waiting: { reason: 'PodInitializing' } });
    assert.deepEqual(s.conditions?.map((c) => [c.type, c.status, c.reason, c.message]), [
      ['PodReadyToStartContainers', 'False', undefined, undefined],
      ['Initialized', 'False', 'ContainersNotInitialized', 'containers with incomplete status: [one two]'],
      ['Ready', 'False', 'PodFailed', undefined],
      ['ContainersReady', 'False', 'PodFailed', undefined],
      ['PodScheduled', 'True', undefined, undefined],
    ]);
  });
});
