// Secrets on the kubernetes backend against the API simulator (its kubelet runs pods on the test
// run's dockerd): one Secret per attempt, env through secretKeyRef and files through a secret
// volume reach the task, no value in the pod, the Secret gone with the pod — also after a start
// cut short. And the pod parts themselves, without a cluster.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildPod, type PodSettings } from '../../src/backends/kubernetes/pod-spec.js';
import { DEFAULT_FEATURE_SETTINGS } from '../../src/backends/kubernetes/features.js';
import { podName, taskSecretName } from '../../src/backends/kubernetes/names.js';
import { secretParts } from '../../src/backends/kubernetes/task-secret.js';
import type { RunSecrets, StartRequest } from '../../src/backends/types.js';
import { NAMESPACE, output, setup, type KCtx } from './kubernetes-helpers.js';

const TOKEN = 'tok3n-V@lue/+ x';
const KEY = 'k3y-0f-the-app';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('kubernetes backend: secrets', { timeout: 120_000 }, () => {
  let ctx: KCtx;
  before(async () => { ctx = await setup('secrets'); });
  after(() => ctx.cleanup());

  const withSecrets = (r: StartRequest, secrets: RunSecrets): StartRequest => ({ ...r, secrets });
  const secretOf = (runId: string) => ctx.sim.secrets(NAMESPACE).find((s) => s.metadata?.name === taskSecretName(podName(runId)));

  it('gives env and files to a non-root task through its own Secret, never putting a value in the pod', async () => {
    const script = [
      'echo "env=$TOKEN"',
      'cat /run/secrets/token; echo',
      'cat /run/secrets/sub/key; echo',
      'cat /etc/app/key; echo',
      'ls -ln /run/secrets/token /etc/app/key | while read m n u g rest; do echo "$m $u $g"; done',
      'id -G',
    ].join('\n');
    const ended = ctx.rec.ended('ksec');
    await ctx.backend.start(withSecrets(ctx.req('ksec', ['sh', '-c', script], { user: '65534' }), {
      env: { TOKEN },
      files: [{ path: '/run/secrets/token', value: TOKEN }, { path: '/run/secrets/sub/key', value: KEY }, { path: '/etc/app/key', value: KEY }],
    }));
    const pod = ctx.sim.pods(NAMESPACE).find((p) => p.metadata?.name === podName('ksec'));
    assert.ok(pod);
    const spec = JSON.stringify(pod);
    for (const v of [TOKEN, KEY, b64(TOKEN), b64(KEY)]) assert.ok(!spec.includes(v), 'no value in the pod');
    const secret = secretOf('ksec');
    assert.equal(secret?.type, 'Opaque');
    assert.equal(secret?.metadata?.labels?.['wharf.dev/instance'], ctx.instanceId);
    assert.deepEqual(Object.keys(secret?.data ?? {}).sort(), ['env.TOKEN', 'file.0', 'file.1', 'file.2']);
    const main = pod.spec?.containers.find((c) => c.name === 'main');
    assert.deepEqual(main?.env?.find((e) => e.name === 'TOKEN'), { name: 'TOKEN', valueFrom: { secretKeyRef: { name: taskSecretName(podName('ksec')), key: 'env.TOKEN' } } });
    const [out, exit] = await Promise.all([output(ctx.backend, 'ksec'), ended]);
    assert.deepEqual(exit, { kind: 'exited', code: 0 }, out.text);
    // Files belong to root, readable by the pod's fsGroup (the task's user's group), as the kubelet makes them.
    assert.equal(out.text, `env=${TOKEN}\n${TOKEN}\n${KEY}\n${KEY}\n-r--r----- 0 65534\n-r--r----- 0 65534\n65534\n`);
    await ctx.backend.remove('ksec');
    assert.equal(secretOf('ksec'), undefined, 'the Secret goes with the pod');
  });

  it('refuses a secret file in /tmp before creating anything', async () => {
    const ended = ctx.rec.ended('ktmp');
    await ctx.backend.start(withSecrets(ctx.req('ktmp', ['true']), { env: {}, files: [{ path: '/tmp/key', value: KEY }] }));
    assert.deepEqual(await ended, {
      kind: 'start_failed',
      reason: 'secret file /tmp/key: /tmp is the task\'s scratch volume and cannot hold a secret mount; put it in a directory of its own (e.g. /run/secrets/key)',
    });
    assert.equal(secretOf('ktmp'), undefined);
    await ctx.backend.remove('ktmp');
  });

  it('deletes the Secret of a start cut short when the run is removed by its id (the sweep\'s way)', async () => {
    ctx.sim.faults.failNext({ verb: 'create', resource: 'pods', status: 500 });
    await assert.rejects(ctx.backend.start(withSecrets(ctx.req('khalf', ['true']), { env: { TOKEN }, files: [] })), /creating pod/);
    assert.ok(secretOf('khalf'), 'made before the pod');
    const side = ctx.other(); // a worker that never saw this run
    await side.backend.remove('khalf');
    assert.equal(secretOf('khalf'), undefined);
  });

  it('removes a run it never saw without failing when it may not touch secrets', async () => {
    ctx.sim.faults.forbid('delete', 'secrets');
    await ctx.backend.remove('knever');
  });
});

describe('kubernetes pod parts for secrets', () => {
  const settings: PodSettings = {
    namespace: 'ns', instanceId: 'i', terminationGraceSeconds: 30, deadlineMarginSeconds: 60,
    tmpBytes: 1 << 20, requireNonRoot: false, imagePullSecrets: [], features: DEFAULT_FEATURE_SETTINGS,
  };

  it('shares a volume between files whose directories nest, each mounted read-only, mode 0400', () => {
    const parts = secretParts('s', ['A'], ['/run/s/a', '/etc/x/b', '/run/s/d/c', '/run/s/b']);
    assert.ok(!('error' in parts));
    assert.deepEqual(parts.mounts, [
      { name: 'wharf-secrets-0', mountPath: '/etc/x', readOnly: true },
      { name: 'wharf-secrets-1', mountPath: '/run/s', readOnly: true },
    ]);
    assert.deepEqual(parts.volumes.map((v) => v.secret), [
      { secretName: 's', defaultMode: 0o400, items: [{ key: 'file.1', path: 'b' }] },
      { secretName: 's', defaultMode: 0o400, items: [{ key: 'file.0', path: 'a' }, { key: 'file.2', path: 'd/c' }, { key: 'file.3', path: 'b' }] },
    ]);
    assert.deepEqual(parts.env, [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'env.A' } } }]);
  });

  it('refuses a file in / and a file that is another\'s directory', () => {
    assert.match(JSON.stringify(secretParts('s', [], ['/key'])), /a file directly in \/ cannot be mounted/);
    assert.match(JSON.stringify(secretParts('s', [], ['/a/b', '/a/b/c'])), /secret file \/a\/b is also the directory of secret file \/a\/b\/c/);
  });

  it('sets the fsGroup only for a numeric non-root user with secret files', () => {
    const r = (user: string | undefined, files: RunSecrets['files']): StartRequest => ({
      runId: 'r', labels: {}, env: {}, secrets: { env: {}, files },
      plan: { name: 't', command: ['true'], image: 'busybox', env: {}, needs: [], retry: { limit: 0, initialMs: 1, factor: 2, maxMs: 1 }, ...(user ? { user } : {}) },
    });
    const fsGroup = (req: StartRequest): number | undefined => {
      const b = buildPod(req, settings);
      return 'pod' in b ? b.pod.spec?.securityContext?.fsGroup : -1;
    };
    const f = [{ path: '/run/s/a', value: 'v' }];
    assert.equal(fsGroup(r('1000', f)), 1000);
    assert.equal(fsGroup(r('1000:2000', f)), 2000);
    assert.equal(fsGroup(r('0', f)), undefined);
    assert.equal(fsGroup(r(undefined, f)), undefined);
    assert.equal(fsGroup(r('1000', [])), undefined);
  });
});
