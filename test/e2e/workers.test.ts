// Standalone workers: `wharf serve --no-worker` and `wharf worker` processes on one WHARF_HOME.
// The worker registers and runs jobs; the API lists it live; once it is killed and its
// heartbeats stop, queued tasks say that no live worker runs their backend; a SIGTERMed worker
// drains and unregisters.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobView } from '../../src/spec/api.js';
import type { WorkerList } from '../../src/spec/workers-api.js';
import { api, jobEnd, submit } from '../helpers/api.js';
import { CLI, cliEnv, runCli, startServer, tempHome, type Server } from '../helpers/cli.js';
import { stopChild } from '../helpers/stop-child.js';
import { readFileSync } from 'node:fs';
import { testDocker } from '../infra/docker.js';
import { freshDatabase } from '../infra/postgres.js';

interface WorkerProc { id: string; child: ChildProcess; stderr: () => string }

/** Starts `wharf worker` and waits for the line that names it. */
async function startWorker(args: string[], env: NodeJS.ProcessEnv): Promise<WorkerProc> {
  const child = spawn(process.execPath, [CLI, 'worker', '--log-level', 'info', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.resume();
  let err = '';
  const id = await new Promise<string>((resolve, reject) => {
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      const m = /"msg":"worker (w-[0-9a-f]+) started/.exec(err);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`wharf worker exited ${code}: ${err}`)));
  });
  return { id, child, stderr: () => err };
}

/** Polls (every 100 ms, bounded) until `pred` holds for the worker list. */
async function untilWorkers(server: Server, pred: (l: WorkerList) => boolean, what: string): Promise<WorkerList> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const l = await api<WorkerList>(server, '/workers');
    if (pred(l)) return l;
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}: ${JSON.stringify(l)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('e2e: standalone workers', () => {
  const home = tempHome('wharf-workers-');
  // 200 ms beats (both processes read it): a worker counts as gone 600 ms after its last one.
  const env = cliEnv({ WHARF_HOME: home.dir, WHARF_HEARTBEAT: '200ms' });
  let server: Server | undefined;
  const workers: WorkerProc[] = [];
  after(async () => {
    for (const w of workers) await stopChild(w.child, 15_000);
    await server?.stop();
    home.cleanup();
  });

  it('runs jobs on a registered worker; a dead one leaves queued tasks with a reason', async () => {
    const docker = await testDocker();
    // The API server accepts docker tasks (it has the engine) but runs nothing itself.
    server = await startServer(['--no-worker', '--docker', 'on', '--docker-host', docker.host], env);
    const w1 = await startWorker(['--backend', 'local', '--label', 'zone=a'], env);
    workers.push(w1);

    const ran = await jobEnd(server, (await submit(server, { name: 'on-w1', tasks: { a: { command: ['sh', '-c', 'echo hi'] } } })).id);
    assert.equal(ran.state, 'succeeded');
    assert.equal(ran.tasks[0]?.attempts[0]?.worker, w1.id);
    assert.equal(ran.tasks[0]?.waiting, undefined);

    const listed = await api<WorkerList>(server, '/workers');
    assert.equal(listed.workers.length, 1);
    const [me] = listed.workers;
    assert.equal(me?.id, w1.id);
    assert.equal(me?.pid, w1.child.pid);
    assert.deepEqual(me?.backends, ['local']);
    assert.deepEqual(me?.labels, { zone: 'a' });
    assert.equal(me?.live, true);

    // Only a local worker is live: a docker task waits, and says so (API and `wharf job`).
    const dockerJob = await submit(server, { name: 'needs-docker', tasks: { d: { backend: 'docker', image: docker.busybox, command: ['true'] } } });
    const seen = await api<JobView>(server, `/jobs/${dockerJob.id}`);
    assert.equal(seen.tasks[0]?.waiting, `no live worker runs the docker backend (live workers: ${w1.id} local)`);
    const shown = await runCli(['job', dockerJob.id], { env: { ...env, WHARF_URL: server.url } });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`d: waiting: no live worker runs the docker backend \\(live workers: ${w1.id} local\\)`));
    const table = await runCli(['workers'], { env: { ...env, WHARF_URL: server.url } });
    assert.match(table.stdout, new RegExp(`${w1.id} .* local .* 0/8 +live .* zone=a`));

    w1.child.kill('SIGKILL');
    await once(w1.child, 'exit');
    const gone = await untilWorkers(server, (l) => l.workers.length === 1 && l.workers[0]?.live === false, 'the killed worker is not live');
    assert.equal(gone.workers[0]?.id, w1.id, 'a killed worker stays listed, not live');

    const stuck = await submit(server, { name: 'stuck', tasks: { a: { command: ['true'] } } });
    const view = await api<JobView>(server, `/jobs/${stuck.id}`);
    assert.equal(view.tasks[0]?.waiting, 'no live worker runs the local backend (no live workers)');

    // A new worker takes the stuck job; on SIGTERM it drains, exits 0 and unregisters.
    const w2 = await startWorker(['--backend', 'local'], env);
    workers.push(w2);
    assert.equal((await jobEnd(server, stuck.id)).state, 'succeeded');
    const exited = once(w2.child, 'exit');
    w2.child.kill('SIGTERM');
    assert.deepEqual(await exited, [0, null]);
    assert.deepEqual((await api<WorkerList>(server, '/workers')).workers.map((w) => w.id), [w1.id]);
  });

  it('refuses a backend it does not have, naming it', async () => {
    const r = await runCli(['worker', '--backend', 'docker'], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--backend: this process has no docker backend \(it has local\)/);
    const bad = await runCli(['worker', '--backend', 'nomad'], { env });
    assert.match(bad.stderr, /--backend: expected one of local, docker, kubernetes, got "nomad"/);
  });
});

describe('e2e: a standalone worker on PostgreSQL', () => {
  const home = tempHome('wharf-workers-pg-');
  const workerHome = tempHome('wharf-workers-pg2-');
  let server: Server | undefined;
  let worker: WorkerProc | undefined;
  after(async () => {
    if (worker) await stopChild(worker.child, 15_000);
    await server?.stop();
    home.cleanup();
    workerHome.cleanup();
  });

  it('runs jobs from a server on another home; the password never shows in its log or `ps`', async () => {
    const url = await freshDatabase();
    const password = decodeURIComponent(new URL(url).password);
    assert.ok(password.length > 0);
    server = await startServer(['--no-worker'], cliEnv({ WHARF_HOME: home.dir, WHARF_DB: url }));
    // A different WHARF_HOME: only the database is shared, as on another machine. The URL on the command line.
    worker = await startWorker(['--db', url, '--backend', 'local'], cliEnv({ WHARF_HOME: workerHome.dir }));
    const cmdline = readFileSync(`/proc/${worker.child.pid}/cmdline`, 'utf8');
    assert.ok(!cmdline.includes(password), `the password is in ps: ${cmdline}`);
    const job = await jobEnd(server, (await submit(server, { name: 'pg', tasks: { a: { command: ['true'] } } })).id);
    assert.equal(job.state, 'succeeded');
    assert.equal(job.tasks[0]?.attempts[0]?.worker, worker.id);
    const l = await api<WorkerList>(server, '/workers');
    assert.deepEqual(l.workers.map((w) => [w.id, w.live]), [[worker.id, true]]);
    const exited = once(worker.child, 'exit');
    worker.child.kill('SIGTERM');
    assert.deepEqual(await exited, [0, null]);
    assert.deepEqual((await api<WorkerList>(server, '/workers')).workers, []);
    assert.ok(!worker.stderr().includes(password), 'the password is in the worker log');
    assert.match(worker.stderr(), /a database password on the command line can be read by other users/);
  });
});
