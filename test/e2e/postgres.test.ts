// `wharf serve` on PostgreSQL (a real cluster of its own, on loopback), through its faults: the
// database going away and coming back mid-run, and the server SIGKILLed mid-task. No job is lost,
// every job reaches its true end, /ready tells the truth, and the password shows nowhere.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobView } from '../../src/spec/api.js';
import { api, jobEnd, sigkill, submit, untilLog } from '../helpers/api.js';
import { cliEnv, startServer, tempHome, type Server } from '../helpers/cli.js';
import { startPostgres, type TestPostgres } from '../infra/postgres.js';

/** GET /ready until it answers `status` (it is a probe: asking again is how it is used). */
async function readyUntil(server: Server, status: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await fetch(`${server.url}/ready`).then((r) => r.status, () => 0);
    if (got === status) return;
    if (Date.now() > deadline) throw new Error(`/ready answered ${got}, not ${status}, for ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('e2e: PostgreSQL faults', () => {
  const home = tempHome('wharf-pg-');
  let pgc: TestPostgres;
  let server: Server | undefined;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    // Durable commits: killing the database must lose nothing Wharf was told was committed.
    pgc = await startPostgres({ durable: true });
    env = cliEnv({ WHARF_HOME: home.dir, WHARF_DB: pgc.url });
  });
  after(async () => {
    await server?.stop();
    await pgc?.stop();
    home.cleanup();
  });

  it('a database that goes away fails /ready and comes back; the running job still ends as it should', async () => {
    server = await startServer(['--lease', '10s'], env);
    await readyUntil(server, 200);
    const job = await submit(server, {
      name: 'through-an-outage',
      tasks: { a: { command: ['sh', '-c', 'echo before; sleep 3; echo after'] }, b: { command: ['true'], needs: ['a'] } },
    });
    await untilLog(server, job.id, 'before');
    await pgc.kill();
    await readyUntil(server, 503);
    assert.equal(server.child.exitCode, null, 'the server is still running');
    await pgc.restart();
    await readyUntil(server, 200);
    const end = await jobEnd(server, job.id);
    assert.equal(end.state, "succeeded", JSON.stringify(end.tasks.map((t) => t.attempts)));
    assert.ok(!server.stderr().includes(pgc.password), 'the password is in the server log');
  });

  it('a server SIGKILLed mid-task: its attempt is found lost and retried per policy; no job lost', async () => {
    await server?.stop();
    // A short lease, so the next server finds the lost attempt soon.
    server = await startServer(['--lease', '1s'], env);
    const job = await submit(server, {
      name: 'lost-and-retried',
      tasks: { count: { command: ['sh', '-c', 'echo "attempt $WHARF_ATTEMPT"; sleep 2; echo finished'], retries: { limit: 1, backoff: { initial: '100ms' } } } },
    });
    await untilLog(server, job.id, 'attempt 1');
    await sigkill(server);
    server = await startServer(['--lease', '1s'], env);
    const end = await jobEnd(server, job.id);
    assert.equal(end.state, 'succeeded');
    assert.deepEqual(end.tasks[0]?.attempts.map((a) => a.outcome), [{ kind: 'lost', reason: 'worker lost' }, { kind: 'succeeded' }]);
    const jobs = await api<{ jobs: JobView[] }>(server, '/jobs');
    assert.equal(jobs.jobs.length, 2, 'no job lost');
  });
});
