// The task features on the kubernetes backend: the pod additions themselves (pure), and what a
// cluster's admission makes of them (the simulator: schema and validation first, then the
// RuntimeClass plugin and Pod Security).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import {
  DEFAULT_FEATURE_SETTINGS, DOCKER_SIDECAR, FEATURE_VOLUMES, SUBID_INIT, TASK_DOCKER_HOST,
} from '../../src/backends/kubernetes/features.js';
import { buildPod, type PodSettings } from '../../src/backends/kubernetes/pod-spec.js';
import { applyTemplate, checkPodTemplate } from '../../src/backends/kubernetes/template.js';
import { LABELS, type StartRequest } from '../../src/backends/types.js';
import type { TaskPlan } from '../../src/spec/plan.js';
import { podSecurityViolation } from '../k8s-sim/pod-security.js';
import type { Pod } from '../k8s-sim/types.js';
import { setup, type KCtx } from './kubernetes-helpers.js';

const settings: PodSettings = {
  namespace: 'tasks', instanceId: 'inst-1', terminationGraceSeconds: 30, deadlineMarginSeconds: 60,
  tmpBytes: 1 << 20, requireNonRoot: false, imagePullSecrets: [], features: DEFAULT_FEATURE_SETTINGS,
};

function pod(plan: Partial<TaskPlan>): V1Pod {
  const req: StartRequest = {
    runId: 'j1-t-1',
    labels: { [LABELS.instance]: 'inst-1', [LABELS.job]: 'j1', [LABELS.task]: 't', [LABELS.attempt]: '1', [LABELS.attemptId]: 'j1-t-1' },
    env: {},
    plan: { name: 't', command: ['docker', 'info'], image: 'docker:cli', env: {}, needs: [], retry: { limit: 0, initialMs: 1, factor: 2, maxMs: 1 }, user: '1000', ...plan },
  };
  const r = buildPod(req, settings);
  if ('error' in r) throw new Error(r.error);
  return r.pod;
}

function container(p: V1Pod, name: string): V1Container {
  const c = [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])].find((x) => x.name === name);
  assert.ok(c, `no container ${name}`);
  return c;
}

describe('kubernetes features: the pod', () => {
  it('docker: a rootless engine as a native sidecar, with the settings nested runc needs and only there', () => {
    const p = pod({ features: ['docker'] });
    const spec = p.spec;
    assert.ok(spec);
    assert.equal(spec.hostUsers, false);
    assert.deepEqual(spec.initContainers?.map((c) => c.name), [SUBID_INIT, DOCKER_SIDECAR]);
    const engine = container(p, DOCKER_SIDECAR);
    assert.equal(engine.restartPolicy, 'Always');
    assert.equal(engine.image, DEFAULT_FEATURE_SETTINGS.dockerImage);
    assert.deepEqual(engine.startupProbe?.exec?.command, ['docker', 'info']);
    const sc = engine.securityContext;
    assert.equal(sc?.allowPrivilegeEscalation, true);
    assert.equal(sc?.seccompProfile?.type, 'Unconfined');
    assert.equal(sc?.appArmorProfile?.type, 'Unconfined');
    assert.equal(sc?.procMount, 'Unmasked');
    assert.equal(sc?.privileged, undefined);
    assert.equal(engine.command?.some((a) => a.includes('tcp://')), false);
    const mounts = Object.fromEntries((engine.volumeMounts ?? []).map((m) => [m.mountPath, m]));
    assert.equal(mounts['/dev/net/tun']?.name, FEATURE_VOLUMES.tun);
    assert.equal(mounts['/etc/subuid']?.subPath, 'subuid');
    assert.equal(mounts['/etc/subgid']?.subPath, 'subgid');
    assert.equal(mounts['/home/rootless/.local/share']?.name, FEATURE_VOLUMES.data);
    const tun = spec.volumes?.find((v) => v.name === FEATURE_VOLUMES.tun);
    assert.deepEqual(tun?.hostPath, { path: '/dev/net/tun', type: 'CharDevice' });
    // The subid range stays inside the 65536 ids a user-namespaced pod has.
    const writer = container(p, SUBID_INIT);
    const [, start, count] = /rootless:(\d+):(\d+)/.exec(writer.command?.join(' ') ?? '') ?? [];
    assert.equal(Number(start) + Number(count), 65536);

    // The task container keeps its hardening and gets the socket.
    const task = container(p, 'main');
    assert.equal(task.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(task.securityContext?.capabilities?.drop, ['ALL']);
    assert.equal(task.securityContext?.seccompProfile, undefined); // the pod's RuntimeDefault
    assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.ok(task.env?.some((e) => e.name === 'DOCKER_HOST' && e.value === TASK_DOCKER_HOST));
    const run = task.volumeMounts?.find((m) => m.name === FEATURE_VOLUMES.run);
    assert.ok(run && TASK_DOCKER_HOST === `unix://${run.mountPath}/docker.sock`);
    assert.equal(engine.volumeMounts?.some((m) => m.name === FEATURE_VOLUMES.run), true);
  });

  it('docker: passes neither restricted nor baseline Pod Security, for the sidecar\'s reasons only', () => {
    const p = pod({ features: ['docker'] }) as Pod;
    const baseline = podSecurityViolation(p, 'baseline') ?? '';
    for (const reason of ['forbidden AppArmor profile', 'hostPath volumes', 'procMount', 'seccompProfile']) assert.ok(baseline.includes(reason), baseline);
    assert.doesNotMatch(baseline, /"main"/);
    assert.equal(podSecurityViolation(p, 'privileged'), undefined);
    assert.equal(podSecurityViolation(pod({}) as Pod, 'restricted'), undefined);
  });

  it('kata: only a runtime class, still restricted', () => {
    const p = pod({ features: ['kata'] });
    assert.equal(p.spec?.runtimeClassName, 'kata-qemu');
    assert.equal(p.spec?.initContainers, undefined);
    assert.equal(podSecurityViolation(p as Pod, 'restricted'), undefined);
    assert.equal(pod({}).spec?.runtimeClassName, undefined);
  });

  it('keeps the features\' init containers first when a template adds its own', () => {
    const t = checkPodTemplate({ spec: { initContainers: [{ name: 'warm', image: 'busybox', command: ['true'] }] } });
    const merged = applyTemplate(pod({ features: ['docker'] }), t);
    assert.deepEqual(merged.spec?.initContainers?.map((c) => c.name), [SUBID_INIT, DOCKER_SIDECAR, 'warm']);
  });
});

describe('kubernetes features: admission by the cluster', () => {
  let ctx: KCtx;
  before(async () => {
    ctx = await setup('features', {}, {
      namespaces: [{ name: 'default', labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } }],
      runtimeClasses: ['kata-qemu'],
    });
  });
  after(() => ctx.cleanup());

  it('runs a kata task when the cluster has the runtime class', async () => {
    const ended = ctx.rec.ended('kata-ok');
    await ctx.backend.start(ctx.req('kata-ok', ['sh', '-c', 'exit 4'], { features: ['kata'], user: '1000' }));
    assert.deepEqual(await ended, { kind: 'exited', code: 4 });
    await ctx.backend.remove('kata-ok');
  });

  it('ends start_failed with the admission plugin\'s words when the runtime class is missing', async () => {
    const side = ctx.other({ features: { ...DEFAULT_FEATURE_SETTINGS, kataRuntimeClass: 'kata-fc' } });
    const ended = side.rec.ended('kata-missing');
    await side.backend.start(ctx.req('kata-missing', ['true'], { features: ['kata'] }));
    const exit = await ended;
    assert.equal(exit.kind, 'start_failed');
    assert.match(exit.kind === 'start_failed' ? exit.reason : '', /pod rejected: RuntimeClass "kata-fc" not found/);
  });

  it('passes validation with the docker feature, and is refused by a baseline namespace, saying why', async () => {
    const ended = ctx.rec.ended('docker-baseline');
    await ctx.backend.start(ctx.req('docker-baseline', ['docker', 'info'], { features: ['docker'], user: '1000' }));
    const exit = await ended;
    assert.equal(exit.kind, 'start_failed');
    const reason = exit.kind === 'start_failed' ? exit.reason : '';
    // A 403 from admission, not a 422: the schema and the validation took the pod.
    assert.match(reason, /violates PodSecurity "baseline:latest"/);
    assert.match(reason, /hostPath volumes/);
    assert.equal(ctx.sim.pods('default').length, 0);
  });
});
