// The docker backend through a real `wharf serve` on a real engine: hardening, exit codes, OOM,
// pull failures, and a worker SIGKILLed mid-task whose successor adopts the container.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerEngine } from '../../src/docker/engine.js';
import { jsonLines } from '../../src/docker/streams.js';
import type { JobView } from '../../src/spec/api.js';
import { allLogs, api, expectTakenOver, jobEnd, sigkill, submit, untilLog } from '../helpers/api.js';
import { cliEnv, startServer, tempHome, type Server } from '../helpers/cli.js';
import { testDocker, type TestDocker } from '../infra/docker.js';
import { startRegistry, type TestRegistry } from '../infra/registry.js';

interface Container { Id: string; Names: string[]; Labels: Record<string, string>; State: string }

describe('docker tasks through wharf serve', { timeout: 180_000 }, () => {
  const home = tempHome();
  let docker: TestDocker;
  let engine: DockerEngine;
  let registry: TestRegistry;
  let server: Server | undefined;
  let env: NodeJS.ProcessEnv;

  const containersOf = (jobId: string): Promise<Container[]> =>
    engine.request<Container[]>('GET', '/containers/json', { query: { all: true, filters: { label: [`wharf.dev/job=${jobId}`] } } });

  /**
   * Resolves once no container matches the label. The job's end is recorded before its container
   * is removed, so this waits on the engine's destroy events (the stream is open before the first
   * look, so none is missed), never on a timer.
   */
  const allRemoved = async (label: string): Promise<void> => {
    const res = await engine.stream('GET', '/events', { query: { filters: { type: ['container'], event: ['destroy'], label: [label] } } });
    const left = async (): Promise<number> => (await engine.request<Container[]>('GET', '/containers/json', { query: { all: true, filters: { label: [label] } } })).length;
    try {
      if (await left() === 0) return;
      for await (const _ of jsonLines(res)) if (await left() === 0) return;
    } finally {
      res.destroy();
    }
  };

  before(async () => {
    docker = await testDocker();
    engine = new DockerEngine({ host: docker.host });
    registry = await startRegistry({ auth: 'htpasswd', users: { wharf: 's3cret-pw' } });
    env = cliEnv({ WHARF_HOME: home.dir, DOCKER_HOST: docker.host, WHARF_DOCKER: 'on' });
    server = await startServer(['--lease', '2s', '--grace', '2s'], env);
  });
  after(async () => {
    await server?.stop();
    await registry?.stop();
    engine?.close();
    home.cleanup();
  });

  test('a task runs hardened (no capabilities), its exit code 5 fails the job with 5, and no container is left', async () => {
    const job = await submit(server!, {
      name: 'caps',
      tasks: { caps: { image: docker.busybox, command: ['sh', '-c', 'grep CapEff /proc/self/status; touch /x 2>&1 || echo read-only; exit 5'] } },
    });
    assert.equal(job.tasks[0]?.backend, 'docker', 'a task with an image goes to docker');
    const end = await jobEnd(server!, job.id);
    assert.equal(end.state, 'failed');
    const attempt = end.tasks[0]?.attempts[0];
    assert.deepEqual(attempt?.outcome, { kind: 'exited', code: 5 });
    assert.equal(attempt?.exitStatus, 5);
    const out = (await allLogs(server!, job.id)).map((l) => l.text).join('');
    assert.match(out, /CapEff:\s+0000000000000000/);
    assert.match(out, /read-only/);
    await allRemoved(`wharf.dev/job=${job.id}`);
  });

  test('an OOM kill is reported oom_killed with the limit', async () => {
    const job = await submit(server!, {
      name: 'oom',
      tasks: { hog: { image: docker.busybox, resources: { memory: '16Mi' }, command: ['sh', '-c', 'x=a; while true; do x=$x$x; done'] } },
    });
    const end = await jobEnd(server!, job.id);
    assert.deepEqual(end.tasks[0]?.attempts[0]?.outcome, { kind: 'oom_killed', memoryLimitBytes: 16 * 1024 * 1024 });
    assert.equal(end.tasks[0]?.attempts[0]?.exitStatus, 137);
    const out = (await allLogs(server!, job.id)).map((l) => l.text).join('');
    assert.match(out, /out of memory: killed at the 16Mi memory limit/);
  });

  test('an image that cannot be pulled fails the attempt with the registry\'s reason', async () => {
    const job = await submit(server!, { name: 'nope', tasks: { t: { image: `${registry.host}/nope/missing:1`, command: ['true'] } } });
    const end = await jobEnd(server!, job.id);
    const outcome = end.tasks[0]?.attempts[0]?.outcome;
    assert.equal(outcome?.kind, 'start_failed');
    // This registry wants credentials and the server has none for it: the registry says so.
    assert.match(outcome?.kind === 'start_failed' ? outcome.reason : '', /no basic auth credentials/);
  });

  test('a privileged task is refused at submit, naming the rule', async () => {
    const res = await fetch(`${server!.url}/api/v1/jobs`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'p', tasks: { t: { image: docker.busybox, command: ['true'], privileged: true } } }),
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /tasks\.t\.privileged.*allowPrivileged: false/);
  });

  test('SIGKILL the server mid-task: the restarted worker adopts the container (no line lost or doubled) and reaps what ended', async () => {
    const job = await submit(server!, {
      name: 'adopt',
      tasks: { count: { image: docker.busybox, command: ['sh', '-c', 'i=0; while [ $i -lt 30 ]; do i=$((i+1)); echo line $i; sleep 0.1; done'] } },
    });
    await untilLog(server!, job.id, 'line 3');
    const [running] = await containersOf(job.id);
    assert.ok(running, 'the container runs');
    const instance = running.Labels['wharf.dev/instance'] ?? '';

    // A container of an attempt that has ended, left behind (as by a worker killed before it
    // removed it): the restarted worker must reap it.
    const failed = (await api<{ jobs: { id: string }[] }>(server!, '/jobs?state=failed')).jobs[0];
    const ended = failed && await api<JobView>(server!, `/jobs/${failed.id}`);
    const endedAttempt = ended?.tasks[0]?.attempts[0]?.id ?? '';
    assert.ok(endedAttempt);
    const { Id: stray } = await engine.request<{ Id: string }>('POST', '/containers/create', {
      query: { name: `wharf-${endedAttempt}` },
      body: {
        Image: docker.busybox, Cmd: ['sleep', '300'], HostConfig: { NetworkMode: 'none' },
        Labels: { 'wharf.dev/instance': instance, 'wharf.dev/attempt-id': endedAttempt, 'wharf.dev/run-id': endedAttempt, 'wharf.dev/job': ended?.id ?? '' },
      },
    });
    await engine.request('POST', `/containers/${stray}/start`);

    await sigkill(server!);
    server = await startServer(['--lease', '2s', '--grace', '2s'], env);
    await expectTakenOver(server, job.id, 30);
    await allRemoved(`wharf.dev/job=${job.id}`);
    await allRemoved(`wharf.dev/attempt-id=${endedAttempt}`);
  });
});

describe('docker backend asked for without an engine', () => {
  const home = tempHome();
  after(() => home.cleanup());

  test('wharf serve --docker on refuses to start, saying why', async () => {
    const sock = join(home.dir, 'no-docker.sock');
    writeFileSync(join(home.dir, 'marker'), '');
    await assert.rejects(startServer(['--docker', 'on', '--docker-host', `unix://${sock}`], cliEnv({ WHARF_HOME: home.dir })),
      /docker backend was asked for, but .*no-docker\.sock/);
  });
});
