// The simulator's kubelet, its pure parts: the scheduler's messages, quantities, image names,
// $(VAR) expansion, QoS classes, pull-secret matching and the status of a pod ended mid-way.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { expand } from '../k8s-sim/kubelet/env.js';
import { isLoopbackRegistry, parseImage, qualified, withDefaultTag } from '../k8s-sim/kubelet/image-ref.js';
import { pullCredentials } from '../k8s-sim/kubelet/images.js';
import { formatBinary, parseQuantity } from '../k8s-sim/kubelet/quantity.js';
import { qosClass } from '../k8s-sim/kubelet/resources.js';
import { Scheduler } from '../k8s-sim/kubelet/scheduler.js';
import { CONTAINER_NOT_LOCATED, finalize, podStatus, type PodState } from '../k8s-sim/kubelet/status.js';
import type { Pod, Secret } from '../k8s-sim/types.js';

const pod = (containers: IContainer[], extra: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec: { containers, ...extra } });
const req = (cpu?: string, memory?: string): IContainer => ({ name: 'c', resources: { requests: { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) } } });

describe('k8s-sim kubelet: pure parts', () => {
  it('schedules by free allocatable, and words the scheduler\'s refusals', () => {
    const s = new Scheduler([{ name: 'n1' }, { name: 'n2', labels: { disk: 'ssd' } }, { name: 'n3', allocatable: { pods: 1 } }]);
    assert.deepEqual(s.schedule('a', pod([req('1500m', '3Gi')], { nodeSelector: { disk: 'ssd' } })), { node: 'n2' });
    assert.deepEqual(s.schedule('b', pod([req(undefined, '1Gi')])), { node: 'n1' }); // n1: least allocated
    assert.deepEqual(s.schedule('c', pod([req('1', '1536Mi')], { nodeSelector: { disk: 'ssd' } })), {
      unschedulable: "0/3 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
    });
    assert.deepEqual(s.schedule('d', pod([req()])), { node: 'n3' });
    assert.deepEqual(s.schedule('e', pod([req(undefined, '3500Mi')])), {
      unschedulable: '0/3 nodes are available: 1 Too many pods, 2 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    });
    assert.equal(s.release('a'), true);
    assert.deepEqual(s.schedule('e', pod([req(undefined, '3500Mi')])), { node: 'n2' });
    // An init container asking more than all the containers together sets the pod's request.
    const s2 = new Scheduler([{ name: 'only', allocatable: { memory: '1Gi' } }]);
    assert.ok('unschedulable' in s2.schedule('i', pod([req(undefined, '100Mi')], { initContainers: [req(undefined, '2Gi')] })));
    // A limit stands in for a missing request.
    assert.ok('unschedulable' in s2.schedule('l', pod([{ name: 'c', resources: { limits: { memory: '2Gi' } } }])));
  });

  it('parses and prints quantities as Kubernetes does', () => {
    assert.deepEqual(['500m', '2', '1.5', '64Mi', '1G', '1e3', '10Gi', '1k'].map(parseQuantity), [0.5, 2, 1.5, 64 * 2 ** 20, 1e9, 1000, 10 * 2 ** 30, 1000]);
    assert.throws(() => parseQuantity('12XB'), /expected a number/);
    assert.deepEqual([1258291200, 184287232, 1234567, 3_000_000, 512, 0].map(formatBinary), ['1200Mi', '179968Ki', '1234567', '3M', '512', '0']);
  });

  it('names images as the kubelet and the runtime do', () => {
    assert.equal(withDefaultTag('busybox'), 'busybox:latest');
    assert.equal(withDefaultTag('127.0.0.1:5000/a/b:1'), '127.0.0.1:5000/a/b:1');
    const q = (r: string): string | undefined => { const n = parseImage(r); return n && qualified(n); };
    assert.equal(q('busybox'), 'docker.io/library/busybox:latest');
    assert.equal(q('wharf-test/busybox:1'), 'docker.io/wharf-test/busybox:1');
    assert.equal(q('localhost:5000/x@sha256:' + 'a'.repeat(64)), `localhost:5000/x@sha256:${'a'.repeat(64)}`);
    assert.equal(parseImage('Bad//Image'), undefined);
    assert.deepEqual(['127.0.0.1:5000', 'localhost:1', '[::1]:5000', 'docker.io', 'registry.example:5000', '127.0.0.1.example'].map(isLoopbackRegistry), [true, true, true, false, false, false]);
  });

  it('expands $(VAR) as the kubelet does', () => {
    const vars = new Map([['A', 'a'], ['B', 'b']]);
    assert.equal(expand('$(A)-$(B)-$(C)-$$(A)-$A-$(-$', vars), 'a-b-$(C)-$(A)-$A-$(-$');
  });

  it('classes QoS', () => {
    assert.equal(qosClass(pod([{ name: 'c' }])), 'BestEffort');
    assert.equal(qosClass(pod([req('1')])), 'Burstable');
    assert.equal(qosClass(pod([{ name: 'c', resources: { limits: { cpu: '1', memory: '1Gi' } } }])), 'Guaranteed');
    assert.equal(qosClass(pod([{ name: 'c', resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } } }])), 'Burstable');
  });

  it('picks pull credentials by registry host, from .dockerconfigjson and .dockercfg', () => {
    const secrets: Record<string, Secret> = {
      cfgjson: { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { 'https://127.0.0.1:5000': { auth: Buffer.from('u1:p1').toString('base64') }, 'other:1': { username: 'x', password: 'y' } } })).toString('base64') } },
      cfg: { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/dockercfg', data: { '.dockercfg': Buffer.from(JSON.stringify({ '127.0.0.1:5000/team': { username: 'u2', password: 'p2' } })).toString('base64') } },
    };
    const p = pod([{ name: 'c' }], { imagePullSecrets: [{ name: 'cfgjson' }, { name: 'absent' }, { name: 'cfg' }] });
    const get = (_ns: string, n: string): Secret | undefined => secrets[n];
    assert.deepEqual(pullCredentials(p, '127.0.0.1:5000/team/app:1', get), [{ username: 'u1', password: 'p1' }, { username: 'u2', password: 'p2' }]);
    assert.deepEqual(pullCredentials(p, '127.0.0.1:5000/solo/app:1', get), [{ username: 'u1', password: 'p1' }]);
    assert.deepEqual(pullCredentials(p, '127.0.0.1:5001/team/app:1', get), []);
  });

  it('ends a pod whose container never started as Failed with ContainerStatusUnknown', () => {
    const s: PodState = {
      pod: pod([{ name: 'main', image: 'x' }]), node: 'n', startTime: '2024-07-01T08:51:36Z', sandbox: 'ready', transitions: new Map(),
      init: [], main: [{ name: 'main', specImage: 'x', waiting: { reason: 'ImagePullBackOff', message: 'm' } }],
    };
    finalize(s);
    const st = podStatus(s);
    assert.equal(st.phase, 'Failed');
    assert.deepEqual(st.containerStatuses?.[0]?.state, { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: CONTAINER_NOT_LOCATED } });
    assert.equal(st.conditions?.[0]?.status, 'False');
  });
});
