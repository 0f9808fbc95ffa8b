// The kubernetes backend through a real `wharf serve`, against the API simulator whose pods run
// as real Docker containers: a DAG with exact exit codes and complete logs, a worker SIGKILLed
// mid-task whose successor adopts the pod, and `wharf k8s check` naming a verb RBAC denies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { allLogs, expectTakenOver, jobEnd, sigkill, submit, untilLog } from '../helpers/api.js';
import { cliEnv, runCli, startServer, tempHome, type Server } from '../helpers/cli.js';
import { dockerConfigJson, registryCredentials } from '../../src/builders/registry/index.js';
import { DockerEngine } from '../../src/docker/engine.js';
import { pushBaseImage } from '../infra/base-image.js';
import { testDocker } from '../infra/docker.js';
import { kanikoImage } from '../infra/kaniko.js';
import { startRegistry, type TestRegistry } from '../infra/registry.js';
import { startSimulator, type Simulator } from '../k8s-sim/index.js';
import { createDockerKubelet } from '../k8s-sim/kubelet/index.js';

/**
 * Resolves once the namespace has no pod (or secret), from a watch: the job's end is recorded
 * before its pod is deleted, and a pod's pull secret goes after it.
 */
async function untilNone(sim: Simulator, resource: 'pods' | 'secrets' = 'pods'): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromOptions(sim.kubeConfigOptions());
  const core = kc.makeApiClient(CoreV1Api);
  const list = resource === 'pods' ? await core.listNamespacedPod({ namespace: 'default' }) : await core.listNamespacedSecret({ namespace: 'default' });
  const live = new Set(list.items.map((p) => p.metadata?.name ?? ''));
  if (live.size === 0) return;
  let abort: AbortController | undefined;
  await new Promise<void>((resolve, reject) => {
    void new Watch(kc).watch(`/api/v1/namespaces/default/${resource}`, { resourceVersion: list.metadata?.resourceVersion }, (type: string, obj: { metadata?: { name?: string } }) => {
      const name = obj.metadata?.name ?? '';
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
    await untilNone(sim);
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
    await untilNone(sim);
  });
});

describe('a build with Kaniko in the cluster', { timeout: 240_000 }, () => {
  const home = tempHome();
  let sim: Simulator | undefined;
  let registry: TestRegistry | undefined;
  let server: Server | undefined;
  const PASSWORD = 'kaniko-e2e-pw';
  after(async () => {
    await server?.stop();
    await sim?.stop();
    await registry?.stop();
    home.cleanup();
  });

  test('pushes through the push host, the task runs by digest through the pull host with a managed pull secret; the repeat is skipped', async () => {
    const docker = await testDocker();
    await kanikoImage(docker);
    registry = await startRegistry({ auth: 'htpasswd', users: { wharf: PASSWORD } });
    const engine = new DockerEngine({ host: docker.host });
    const base = await pushBaseImage(engine, docker, registry.host, 'wharf', PASSWORD);
    engine.close();
    sim = await startSimulator({ kubelet: (host) => createDockerKubelet({ host, dockerHost: docker.host }) });
    const kubeconfig = join(home.dir, 'kubeconfig');
    writeFileSync(kubeconfig, sim.kubeConfigYaml());
    const config = join(home.dir, 'docker-config.json');
    const creds = registryCredentials('wharf', PASSWORD);
    writeFileSync(config, dockerConfigJson({ [registry.host]: creds, [registry.alias]: creds }), { mode: 0o600 });
    server = await startServer([
      '--docker', 'off', '--kubernetes', 'on', '--kubeconfig', kubeconfig, '--builder', 'kaniko',
      '--registry-push', `${registry.alias}/wharf`, '--registry-pull', `${registry.host}/wharf`,
      '--docker-config', config, '--manage-pull-secrets',
    ], cliEnv({ WHARF_HOME: join(home.dir, 'wharf') }));
    const ctx = join(home.dir, 'ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${base}\nCOPY msg /msg\n`);
    writeFileSync(join(ctx, 'msg'), 'built by kaniko\n');
    const spec = { name: 'k', tasks: { app: { build: { context: ctx }, command: ['cat', '/msg'] } } };

    const run = async (): Promise<{ out: string; system: string }> => {
      const job = await submit(server!, spec);
      assert.equal(job.tasks[0]?.backend, 'kubernetes');
      const end = await jobEnd(server!, job.id);
      const logs = await allLogs(server!, job.id);
      const text = (s: string): string => logs.filter((l) => (s === 'system') === (l.stream === 'system')).map((l) => l.text).join('');
      assert.equal(end.state, 'succeeded', text('system'));
      return { out: text('stdout'), system: text('system') };
    };
    const first = await run();
    assert.equal(first.out, 'built by kaniko\n');
    assert.match(first.system, new RegExp(`\\[build\\] building ${registry.alias}/wharf/builds:[0-9a-f]{32} with kaniko`));
    assert.match(first.system, new RegExp(`\\[build\\] the task runs ${registry.host}/wharf/builds@sha256:[0-9a-f]{64}`));
    assert.ok(!first.system.includes(PASSWORD));
    const second = await run();
    assert.equal(second.out, 'built by kaniko\n');
    assert.match(second.system, /exists, build skipped/);
    await untilNone(sim);
    await untilNone(sim, 'secrets'); // the pull secrets go with their pods
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
