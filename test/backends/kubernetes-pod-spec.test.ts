// The kubernetes backend's pure parts that shape a pod: names, label values, the hardened pod
// spec, the pull secret and the operator's pod template. No cluster.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { MapCredentialStore, registryCredentials } from '../../src/builders/registry/index.js';
import { DEFAULT_FEATURE_SETTINGS } from '../../src/backends/kubernetes/features.js';
import { ANNOTATIONS, isDnsLabel, isLabelValue, labelValue, podLabels, podName } from '../../src/backends/kubernetes/names.js';
import { buildPod, escapeExpansion, numericUser, type PodSettings } from '../../src/backends/kubernetes/pod-spec.js';
import { pullSecretFor } from '../../src/backends/kubernetes/pull-secret.js';
import { PodTemplateError, applyTemplate, checkPodTemplate } from '../../src/backends/kubernetes/template.js';
import { LABELS, type StartRequest } from '../../src/backends/types.js';
import type { TaskPlan } from '../../src/spec/plan.js';

const settings: PodSettings = {
  namespace: 'tasks', instanceId: 'inst-1', terminationGraceSeconds: 30, deadlineMarginSeconds: 60,
  tmpBytes: 256 * 1024 * 1024, requireNonRoot: false, imagePullSecrets: [], features: DEFAULT_FEATURE_SETTINGS,
};

function req(plan: Partial<TaskPlan> = {}, runId = 'j0abc-build-1'): StartRequest {
  return {
    runId,
    labels: { [LABELS.instance]: 'inst-1', [LABELS.job]: 'j0abc', [LABELS.task]: 'build', [LABELS.attempt]: '1', [LABELS.attemptId]: runId },
    env: { A: '1', PRICE: '$(HOME) costs $5' },
    plan: { name: 'build', command: ['sh', '-c', 'echo $$ $(HOME)'], image: 'busybox:1.36', env: {}, needs: [], retry: { limit: 0, initialMs: 1, factor: 2, maxMs: 1 }, ...plan },
  };
}

function pod(plan: Partial<TaskPlan> = {}, s: Partial<PodSettings> = {}): V1Pod {
  const r = buildPod(req(plan), { ...settings, ...s });
  if ('error' in r) throw new Error(r.error);
  return r.pod;
}

describe('kubernetes names', () => {
  it('keeps a run id that already is a DNS label, prefixed', () => {
    assert.equal(podName('j0abc-build-1'), 'wharf-j0abc-build-1');
  });

  it('shortens long or odd run ids to a DNS label with a hash, never colliding', () => {
    const long = `j${'a'.repeat(16)}-${'t'.repeat(63)}-12`;
    const odd = ['Run_ID.With.Dots', 'run_id.with.dots', 'RUN-ID', '-x-', '日本', '', long, `${long}3`];
    const names = odd.map(podName);
    for (const n of names) {
      assert.ok(isDnsLabel(n), n);
      assert.ok(n.length <= 63 && n.startsWith('wharf-'), n);
    }
    assert.equal(new Set(names).size, names.length);
    assert.match(podName(long), /^wharf-ja+-t+-[0-9a-f]{10}$/);
    assert.equal(podName(long), podName(long)); // deterministic: a repeated start meets its own pod
  });

  it('makes label values valid, exact when they already are', () => {
    assert.equal(labelValue('j0abc-build-1'), 'j0abc-build-1');
    const cases = ['a'.repeat(64), '-leading', 'with space', 'ümlaut', '', 'x'.repeat(100) + '-'];
    const values = cases.map(labelValue);
    for (const v of values) assert.ok(isLabelValue(v), JSON.stringify(v));
    assert.equal(new Set(values).size, values.length);
    assert.equal(labelValue(''), ''); // empty is a valid value
  });
});

describe('kubernetes pod spec', () => {
  it('is one bare, hardened pod', () => {
    const p = pod();
    const spec = p.spec;
    assert.ok(spec);
    assert.equal(spec.restartPolicy, 'Never');
    assert.equal(spec.automountServiceAccountToken, false);
    assert.equal(spec.enableServiceLinks, false);
    assert.deepEqual(spec.securityContext, { seccompProfile: { type: 'RuntimeDefault' } });
    assert.equal(spec.terminationGracePeriodSeconds, 30);
    assert.equal(spec.activeDeadlineSeconds, undefined);
    assert.equal(spec.containers.length, 1);
    const c = spec.containers[0];
    assert.equal(c?.name, 'main');
    assert.equal(c?.image, 'busybox:1.36');
    assert.equal(c?.args, undefined);
    assert.deepEqual(c?.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true });
    assert.deepEqual(c?.volumeMounts, [{ name: 'wharf-tmp', mountPath: '/tmp' }]);
    assert.deepEqual(spec.volumes, [{ name: 'wharf-tmp', emptyDir: { sizeLimit: String(256 * 1024 * 1024) } }]);
    assert.equal(c?.resources, undefined);
    assert.equal(spec.imagePullSecrets, undefined);
  });

  it('passes the whole argv and env through Kubernetes\' $(VAR) expansion unchanged', () => {
    const c = pod().spec?.containers[0];
    assert.deepEqual(c?.command, ['sh', '-c', 'echo $$$$ $$(HOME)']);
    assert.deepEqual(c?.env, [{ name: 'A', value: '1' }, { name: 'PRICE', value: '$$(HOME) costs $$5' }]);
    assert.equal(escapeExpansion('no dollars'), 'no dollars');
  });

  it('labels the pod with label-safe values and keeps the exact ones in annotations', () => {
    const runId = `J${'x'.repeat(70)}_Odd`;
    const r = buildPod(req({}, runId), settings);
    assert.ok('pod' in r);
    const meta = r.pod.metadata;
    assert.equal(meta?.name, podName(runId));
    assert.equal(meta?.namespace, 'tasks');
    for (const v of Object.values(meta?.labels ?? {})) assert.ok(isLabelValue(v), v);
    assert.equal(meta?.labels?.[LABELS.attemptId], labelValue(runId));
    assert.equal(meta?.labels?.[LABELS.instance], 'inst-1');
    assert.equal(meta?.annotations?.[ANNOTATIONS.runId], runId);
    assert.equal(JSON.parse(meta?.annotations?.[ANNOTATIONS.labels] ?? '{}')[LABELS.attemptId], runId);
    assert.deepEqual(podLabels({ a: 'ok' }), { a: 'ok' });
  });

  it('runs as a numeric non-root user with runAsNonRoot, and refuses a user name', () => {
    assert.deepEqual(pod({ user: '1000:2000' }).spec?.securityContext,
      { seccompProfile: { type: 'RuntimeDefault' }, runAsUser: 1000, runAsGroup: 2000, runAsNonRoot: true });
    assert.deepEqual(pod({ user: '65534' }).spec?.securityContext,
      { seccompProfile: { type: 'RuntimeDefault' }, runAsUser: 65534, runAsNonRoot: true });
    assert.deepEqual(pod({ user: '0' }).spec?.securityContext, { seccompProfile: { type: 'RuntimeDefault' }, runAsUser: 0 });
    const named = buildPod(req({ user: 'nobody' }), settings);
    assert.ok('error' in named);
    assert.match(named.error, /user "nobody" is not numeric.*"uid" or "uid:gid"/);
    assert.equal(numericUser('1:x'), undefined);
    assert.equal(numericUser('99999999999'), undefined);
  });

  it('requires non-root on every pod when told to', () => {
    assert.deepEqual(pod({}, { requireNonRoot: true }).spec?.securityContext, { seccompProfile: { type: 'RuntimeDefault' }, runAsNonRoot: true });
    const root = buildPod(req({ user: '0' }), { ...settings, requireNonRoot: true });
    assert.ok('error' in root && /root/.test(root.error));
  });

  it('adds capabilities, a writable root and privilege only when the plan says', () => {
    const c = pod({ capabilities: ['NET_BIND_SERVICE'], writableRootfs: true }).spec?.containers[0];
    assert.deepEqual(c?.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] }, readOnlyRootFilesystem: false });
    const p = pod({ privileged: true }).spec?.containers[0];
    // The API refuses privileged with allowPrivilegeEscalation false, so it is left out.
    assert.deepEqual(p?.securityContext, { privileged: true, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true });
  });

  it('sets resources as requests and limits, cpu in millicores and memory in bytes', () => {
    const c = pod({ resources: { cpu: 0.25, memoryBytes: 64 * 1024 * 1024 } }).spec?.containers[0];
    assert.deepEqual(c?.resources, { requests: { cpu: '250m', memory: '67108864' }, limits: { cpu: '250m', memory: '67108864' } });
    assert.deepEqual(pod({ resources: { cpu: 0.0001 } }).spec?.containers[0]?.resources?.limits, { cpu: '1m' });
  });

  it('sets the deadline to the timeout plus grace and a margin, and the working directory', () => {
    const p = pod({ timeoutMs: 90_500, workingDir: '/work' });
    assert.equal(p.spec?.activeDeadlineSeconds, 91 + 30 + 60);
    assert.equal(p.spec?.containers[0]?.workingDir, '/work');
  });

  it('refuses what a pod cannot do, saying why', () => {
    const cases: [Partial<TaskPlan>, RegExp][] = [
      [{ command: [] }, /no command/],
      [{ image: undefined }, /no image/],
      [{ inputs: [{ from: '/a', to: '/b' }] }, /inputs and outputs are not supported on the kubernetes backend/],
      [{ network: 'host' }, /network "host": pods use the cluster's pod network/],
    ];
    for (const [plan, re] of cases) {
      const r = buildPod(req(plan), settings);
      assert.ok('error' in r, JSON.stringify(plan));
      assert.match(r.error, re);
    }
  });

  it('names its pull secrets', () => {
    assert.deepEqual(pod({}, { imagePullSecrets: ['a', 'b'] }).spec?.imagePullSecrets, [{ name: 'a' }, { name: 'b' }]);
  });

  it('passes the restricted Pod Security Standard with a non-root user', () => {
    const p = pod({ user: '1000', capabilities: ['NET_BIND_SERVICE'] });
    const spec = p.spec;
    assert.ok(spec);
    assert.equal(spec.hostNetwork ?? false, false);
    assert.equal(spec.hostPID ?? false, false);
    assert.equal(spec.hostIPC ?? false, false);
    assert.equal(spec.securityContext?.runAsNonRoot, true);
    assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    for (const c of spec.containers) {
      assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
      assert.equal(c.securityContext?.privileged ?? false, false);
      assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL']);
      for (const cap of c.securityContext?.capabilities?.add ?? []) assert.equal(cap, 'NET_BIND_SERVICE');
    }
    for (const v of spec.volumes ?? []) assert.deepEqual(Object.keys(v).sort(), ['emptyDir', 'name']);
  });
});

describe('kubernetes pull secret', () => {
  const store = new MapCredentialStore({
    'docker.io': registryCredentials('hubuser', 'hub:pass'),
    'localhost:5000': registryCredentials('me', 's3cret'),
  });
  const meta = { name: 'wharf-x', namespace: 'tasks', labels: { a: 'b' }, annotations: {} };
  const decode = (s: ReturnType<typeof pullSecretFor>): unknown =>
    JSON.parse(Buffer.from(s?.data?.['.dockerconfigjson'] ?? '', 'base64').toString('utf8'));

  it('holds only the image registry\'s credentials, Docker Hub under its index URL, base64 auth', () => {
    const hub = pullSecretFor('busybox', store, meta);
    assert.equal(hub?.type, 'kubernetes.io/dockerconfigjson');
    assert.deepEqual(hub?.metadata, { name: 'wharf-x', namespace: 'tasks', labels: { a: 'b' }, annotations: {} });
    assert.deepEqual(decode(hub), { auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hub:pass').toString('base64') } } });
    const local = pullSecretFor('localhost:5000/app:1', store, meta);
    assert.deepEqual(decode(local), { auths: { 'localhost:5000': { auth: Buffer.from('me:s3cret').toString('base64') } } });
  });

  it('is none when there are no credentials for the registry, and refuses a bad reference', () => {
    assert.equal(pullSecretFor('quay.io/x/y', store, meta), undefined);
    assert.throws(() => pullSecretFor('Bad Ref', store, meta), /invalid image reference/);
  });
});

describe('kubernetes pod template', () => {
  const base = (): V1Pod => pod({}, { imagePullSecrets: ['wharf-own'] });

  it('merges what it may set, and Wharf\'s own settings win', () => {
    const t = checkPodTemplate({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { labels: { team: 'ci' }, annotations: { 'example.com/note': 'hi' } },
      spec: {
        nodeSelector: { pool: 'tasks' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'tasks', effect: 'NoSchedule' }],
        affinity: { nodeAffinity: {} },
        priorityClassName: 'batch',
        serviceAccountName: 'runner',
        imagePullSecrets: [{ name: 'mirror' }, { name: 'wharf-own' }],
        volumes: [{ name: 'cache', emptyDir: {} }],
        containers: [{ name: 'proxy', image: 'envoy:1', volumeMounts: [{ name: 'cache', mountPath: '/c' }] }],
      },
    });
    const p = applyTemplate(base(), t);
    assert.equal(p.metadata?.labels?.['team'], 'ci');
    assert.equal(p.metadata?.labels?.[LABELS.instance], 'inst-1');
    assert.equal(p.metadata?.annotations?.['example.com/note'], 'hi');
    assert.ok(p.metadata?.annotations?.[ANNOTATIONS.runId]);
    const spec = p.spec;
    assert.ok(spec);
    assert.deepEqual(spec.nodeSelector, { pool: 'tasks' });
    assert.equal(spec.tolerations?.length, 1);
    assert.equal(spec.priorityClassName, 'batch');
    assert.equal(spec.serviceAccountName, 'runner');
    assert.equal(spec.automountServiceAccountToken, false);
    assert.deepEqual(spec.imagePullSecrets, [{ name: 'wharf-own' }, { name: 'mirror' }]);
    assert.deepEqual(spec.volumes?.map((v) => v.name), ['wharf-tmp', 'cache']);
    assert.deepEqual(spec.containers.map((c) => c.name), ['main', 'proxy']);
    // The sidecar is hardened like the task's container.
    assert.deepEqual(spec.containers[1]?.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    assert.deepEqual(spec.containers[0], base().spec?.containers[0]);
    assert.deepEqual(spec.securityContext, base().spec?.securityContext);
  });

  it('takes YAML\'s empty values as unset', () => {
    const t = checkPodTemplate({ metadata: { labels: null }, spec: null });
    assert.deepEqual(applyTemplate(base(), t), base());
  });

  it('refuses everything else, naming the field', () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ spec: { hostNetwork: true } }, 'spec.hostNetwork', /not allowed in a pod template/],
      [{ spec: { hostPID: true } }, 'spec.hostPID', /not allowed/],
      [{ spec: { securityContext: { runAsUser: 0 } } }, 'spec.securityContext', /not allowed/],
      [{ spec: { restartPolicy: 'Always' } }, 'spec.restartPolicy', /not allowed/],
      [{ spec: { automountServiceAccountToken: true } }, 'spec.automountServiceAccountToken', /not allowed/],
      [{ spec: { runtimeClassName: 'kata' } }, 'spec.runtimeClassName', /not allowed/],
      [{ spec: { containers: [{ name: 'main', image: 'x', command: ['evil'] }] } }, 'spec.containers[0].name', /task's container/],
      [{ spec: { containers: [{ name: 'side', image: 'x', securityContext: { privileged: true } }] } }, 'spec.containers[0].securityContext.privileged', /privileged/],
      [{ spec: { containers: [{ name: 'side', image: 'x', securityContext: { allowPrivilegeEscalation: true } }] } }, 'spec.containers[0].securityContext.allowPrivilegeEscalation', /escalation/],
      [{ spec: { containers: [{ name: 'side', image: 'x', securityContext: { capabilities: { add: ['SYS_ADMIN'] } } }] } }, 'spec.containers[0].securityContext.capabilities.add', /capabilities/],
      [{ spec: { initContainers: [{ name: 'init', image: 'x', ports: [{ containerPort: 80, hostPort: 80 }] }] } }, 'spec.initContainers[0].ports[0].hostPort', /host ports/],
      [{ spec: { containers: [{ name: 'side', image: 'x', volumeMounts: [{ name: 'nope', mountPath: '/n' }] }] } }, 'spec.containers[0].volumeMounts[0].name', /no volume "nope"/],
      [{ spec: { containers: [{ name: 'side' }] } }, 'spec.containers[0].image', /non-empty string/],
      [{ spec: { volumes: [{ name: 'h', hostPath: { path: '/' } }] } }, 'spec.volumes[0].hostPath', /hostPath/],
      [{ spec: { volumes: [{ name: 'wharf-tmp', emptyDir: {} }] } }, 'spec.volumes[0].name', /\/tmp/],
      [{ spec: { volumes: [{ name: 'wharf-docker-run', emptyDir: {} }] } }, 'spec.volumes[0].name', /Wharf's own/],
      [{ spec: { initContainers: [{ name: 'wharf-docker', image: 'x' }] } }, 'spec.initContainers[0].name', /Wharf's own/],
      [{ metadata: { name: 'fixed' } }, 'metadata.name', /Wharf names each pod/],
      [{ metadata: { labels: { 'wharf.dev/instance': 'other' } } }, 'metadata.labels.wharf.dev/instance', /Wharf's own/],
      [{ metadata: { annotations: { 'wharf.dev/run-id': 'x' } } }, 'metadata.annotations.wharf.dev/run-id', /Wharf's own/],
      [{ metadata: { labels: { team: 'not valid!' } } }, 'metadata.labels.team', /not a valid label value/],
      [{ kind: 'Deployment' }, 'kind', /metadata and spec/],
      [{ spec: { tolerations: {} } }, 'spec.tolerations', /expected a list/],
    ];
    for (const [raw, field, re] of cases) {
      assert.throws(() => checkPodTemplate(raw), (e: unknown) => {
        assert.ok(e instanceof PodTemplateError, String(e));
        assert.equal(e.field, field);
        assert.match(e.message, re);
        assert.ok(e.message.startsWith(`pod template: ${field}: `), e.message);
        return true;
      }, JSON.stringify(raw));
    }
  });
});
