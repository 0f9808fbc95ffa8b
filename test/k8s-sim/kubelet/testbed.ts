// A kubelet on the tests' dockerd with a FakePodHost, and pod builders: what the kubelet tests
// (and anyone testing against the kubelet alone) start from.
import { Readable } from 'node:stream';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { DockerEngine } from '../../../src/docker/engine.js';
import { testDocker } from '../../infra/docker.js';
import type { Pod, PodStatus } from '../types.js';
import { FakePodHost } from './fake-host.js';
import { createDockerKubelet, type DockerKubelet, type DockerKubeletOptions } from './kubelet.js';

export interface Testbed {
  host: FakePodHost;
  kubelet: DockerKubelet;
  engine: DockerEngine;
  busybox: string;
  /** Stores the pod and admits it; returns it as stored. */
  run(pod: Pod): Pod;
  /** The status once the pod's phase is one of `phases`. */
  phase(name: string, ...phases: string[]): Promise<PodStatus>;
  /** The container's whole log so far (no follow); throws the Status if refused. */
  output(name: string, container?: string): Promise<string>;
  /** Containers carrying this kubelet's instance label, as the engine lists them. */
  containers(): Promise<{ Id: string; State: string; Names: string[] }[]>;
  close(): Promise<void>;
}

export async function testbed(opts: Partial<DockerKubeletOptions> = {}): Promise<Testbed> {
  const docker = await testDocker();
  const host = new FakePodHost();
  const kubelet = createDockerKubelet({ host, dockerHost: docker.host, timing: { syncMs: 100, pullBackoffMs: 300, pullBackoffMaxMs: 1000 }, ...opts });
  const engine = new DockerEngine({ host: docker.host });
  return {
    host, kubelet, engine, busybox: docker.busybox,
    run(pod) {
      const stored = host.addPod(pod);
      kubelet.admit(stored);
      return stored;
    },
    phase: (name, ...phases) => host.waitFor('default', name, (s) => phases.includes(s.phase ?? '')),
    async output(name, container) {
      const r = await kubelet.logs('default', name, { container, follow: false, timestamps: false, previous: false });
      if (!(r instanceof Readable)) throw new Error(`logs of ${name} refused: ${JSON.stringify(r)}`);
      return (await readAll(r)).toString('utf8');
    },
    containers: () => engine.request('GET', '/containers/json', { query: { all: true, filters: { label: [kubelet.labelSelector] } } }),
    async close() {
      try {
        await kubelet.close();
      } finally {
        engine.close();
      }
    },
  };
}

/** A pod of one or more containers, restartPolicy Never. */
export function pod(name: string, containers: IContainer[], spec: Partial<IPodSpec> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { restartPolicy: 'Never', ...spec, containers } };
}

/** One container running `script` with sh. */
export function sh(image: string, script: string, extra: Partial<IContainer> = {}): IContainer {
  return { name: 'main', image, command: ['sh', '-c', script], ...extra };
}

export async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts);
}
