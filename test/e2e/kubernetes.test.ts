// The kubernetes backend through a real `wharf serve`, against the API simulator whose pods run
// as real Docker containers: a DAG with exact exit codes and complete logs, a worker SIGKILLed
// mid-task whose successor adopts the pod, and `wharf k8s check` naming a verb RBAC denies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import { allLogs, expectTakenOver, jobEnd, sigkill, submit, untilLog } from '../helpers/api.js';
import { cliEnv, runCli, startServer, tempHome, type Server } from '../helpers/cli.js';
import { testDocker } from '../infra/docker.js';
import { startSimulator, type Simulator } from '../k8s-sim/index.js';
import { createDockerKubelet } from '../k8s-sim/kubelet/index.js';

/** Resolves once the namespace has no pod, from a watch (the job's end is recorded before its pod is deleted). */
async function untilNoPods(sim: Simulator): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromOptions(sim.kubeConfigOptions());
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'default' });
  const live = new Set(list.items.map((p) => p.metadata?.name ?? ''));
  if (live.size === 0) return;
  let abort: AbortController | undefined;
  await new Promise<void>((resolve, reject) => {
    void new Watch(kc).watch('/api/v1/namespaces/default/pods', { resourceVersion: list.metadata?.resourceVersion }, (type: string, pod: V1Pod) => {
      const name = pod.metadata?.name ?? '';
      if (type === 'DELETED') live.delete(name);
      else if (type === 'ADDED') live.add(name);
      if (live.size === 0) resolve();
    }, (err: unknown) => (err ? reject(err as Error) : resolve())).then((a) => { abort = a; }, reject);
  });
  abort?.abort();
}

describe('kubernetes tasks through wharf serve', { timeout: 240_000 }, () => {
  const home = tempHome();
  let sim: Simulator;
  let server: Server | undefined;
  let env: NodeJS.ProcessEnv;
  let kubeconfig: string;
  let busybox: string;
  const args = (): string[] => ['--docker', 'off', '--kubernetes', 'on', '--kubeconfig', kubeconfig, '--lease', '2s', '--grace', '2s'];

  before(async () => {
    const docker = await testDocker();
    busybox = docker.busybox;
    sim = await startSimulator({ kubelet: (host) => createDockerKubelet({ host, dockerHost: docker.host }), token: 'e2e-token' });
    kubeconfig = join(home.dir, 'kubeconfig');
    writeFileSync(kubeconfig, sim.kubeConfigYaml(), { mode: 0o600 });
    env = cliEnv({ WHARF_HOME: join(home.dir, 'wharf') });
    server = await startServer(args(), env);
  });
  after(async () => {
    await server?.stop();
    await sim?.stop();
    home.cleanup();
  });

  test('a DAG runs as pods: exit 3 recorded exactly, dependants skipped, logs complete, no pod left', async () => {
    const job = await submit(server!, {
      name: 'dag',
      tasks: {
        first: { image: busybox, command: ['sh', '-c', 'echo one; echo two >&2'] },
        ok: { image: busybox, needs: ['first'], command: ['sh', '-c', 'for i in 1 2 3; do echo ok $i; done'] },
        bad: { image: busybox, needs: ['first'], command: ['sh', '-c', 'echo failing; exit 3'] },
        after: { image: busybox, needs: ['bad'], command: ['true'] },
      },
    });
    assert.ok(job.tasks.every((t) => t.backend === 'kubernetes'));
    const end = await jobEnd(server!, job.id);
    assert.equal(end.state, 'failed');
    const task = (name: string) => end.tasks.find((t) => t.name === name);
    assert.equal(task('first')?.state, 'succeeded');
    assert.equal(task('ok')?.state, 'succeeded');
    assert.deepEqual(task('bad')?.attempts[0]?.outcome, { kind: 'exited', code: 3 });
    assert.equal(task('bad')?.attempts[0]?.exitStatus, 3);
    assert.equal(task('after')?.state, 'upstream_failed');
    const text = async (t: string): Promise<string> => (await allLogs(server!, job.id, t)).filter((l) => l.stream !== 'system').map((l) => l.text).join('');
    assert.equal(await text('ok'), 'ok 1\nok 2\nok 3\n');
    assert.equal(await text('bad'), 'failing\n');
    assert.deepEqual((await text('first')).split('\n').filter(Boolean).sort(), ['one', 'two']);
    await untilNoPods(sim);
  });

  test('SIGKILL the server mid-task: the restarted worker adopts the pod; no line lost or doubled; no pod left', async () => {
    const job = await submit(server!, {
      name: 'adopt',
      tasks: { count: { image: busybox, command: ['sh', '-c', 'i=0; while [ $i -lt 30 ]; do i=$((i+1)); echo line $i; sleep 0.1; done'] } },
    });
    await untilLog(server!, job.id, 'line 3');
    await sigkill(server!);
    server = await startServer(args(), env);
    await expectTakenOver(server, job.id, 30);
    await untilNoPods(sim);
  });
});

describe('wharf k8s check', { timeout: 60_000 }, () => {
  const home = tempHome();
  let sim: Simulator | undefined;
  let open: Simulator | undefined;
  after(async () => { await sim?.stop(); await open?.stop(); home.cleanup(); });

  test('names the verb the cluster denies, and passes when everything is allowed', async () => {
    sim = await startSimulator({
      rbac: [
        { verb: 'create', resource: 'pods' }, { verb: 'get', resource: 'pods' }, { verb: 'list', resource: 'pods' },
        { verb: 'watch', resource: 'pods' }, { verb: 'get', resource: 'pods', subresource: 'log' },
        { verb: 'create', resource: 'selfsubjectaccessreviews', group: 'authorization.k8s.io' },
      ],
    });
    const kubeconfig = join(home.dir, 'kubeconfig');
    writeFileSync(kubeconfig, sim.kubeConfigYaml());
    const denied = await runCli(['k8s', 'check', '--kubeconfig', kubeconfig], { env: cliEnv({ WHARF_HOME: home.dir }) });
    assert.equal(denied.code, 1, denied.stderr);
    assert.match(denied.stdout, /MISSING delete pods in namespace default/);
    assert.match(denied.stderr, /the worker cannot delete pods; apply `wharf k8s manifests`/);

    const builds = await runCli(['k8s', 'check', '--kubeconfig', kubeconfig, '--builds'], { env: cliEnv({ WHARF_HOME: home.dir }) });
    assert.match(builds.stderr, /cannot delete pods, create pods\/attach, get pods\/attach/);

    open = await startSimulator();
    const allowedConfig = join(home.dir, 'kubeconfig-open');
    writeFileSync(allowedConfig, open.kubeConfigYaml());
    const ok = await runCli(['k8s', 'check', '--kubeconfig', allowedConfig, '--builds', '--pull-secrets'], { env: cliEnv({ WHARF_HOME: home.dir }) });
    assert.equal(ok.code, 0, ok.stderr);
    assert.doesNotMatch(ok.stdout, /MISSING/);
  });
});
