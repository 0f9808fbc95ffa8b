// Many clients submitting at once through a real `wharf serve`, each retrying its submit (as a
// client does when an answer is lost): with an Idempotency-Key every job is made exactly once.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobList, JobView } from '../../src/spec/api.js';
import { cliEnv, runCli, startServer, tempHome, type Server } from '../helpers/cli.js';

describe('e2e: concurrent submits with idempotency keys', () => {
  const home = tempHome('wharf-submits-');
  const env = cliEnv({ WHARF_HOME: home.dir });
  let server: Server | undefined;
  after(async () => {
    await server?.stop();
    home.cleanup();
  });

  it('200 clients, each sending its submit twice at once: 200 jobs, each key one job', async () => {
    server = await startServer(['--concurrency', '4'], env);
    const url = server.url;
    const post = async (i: number): Promise<{ status: number; job: JobView }> => {
      const res = await fetch(`${url}/api/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `client-${i}` },
        body: JSON.stringify({ name: `job-${i}`, tasks: { a: { command: ['true'] } } }),
        // A connection per request, as separate clients have.
        keepalive: false,
      });
      return { status: res.status, job: (await res.json()) as JobView };
    };
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => Promise.all([post(i), post(i)])));
    for (const [i, [a, b]] of answers.entries()) {
      assert.deepEqual([a.status, b.status].sort(), [200, 201], `client ${i}: ${a.status} ${b.status}`);
      assert.equal(a.job.id, b.job.id);
      assert.equal(a.job.name, `job-${i}`);
    }
    const ids = new Set(answers.map(([a]) => a.job.id));
    assert.equal(ids.size, 200);
    const list = (await (await fetch(`${url}/api/v1/jobs?limit=500`)).json()) as JobList;
    assert.equal(list.jobs.length, 200);
    assert.deepEqual(new Set(list.jobs.map((j) => j.id)), ids);

    // The same key with another job file is a conflict, not a second job.
    const clash = await fetch(`${url}/api/v1/jobs`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'client-0' },
      body: JSON.stringify({ name: 'different', tasks: { b: { command: ['true'] } } }),
    });
    assert.equal(clash.status, 409);
  });

  it('the CLI sends the key too', async () => {
    assert.ok(server);
    const { writeFileSync } = await import('node:fs');
    const file = `${home.dir}/job.yaml`;
    writeFileSync(file, 'name: cli\ntasks:\n  a:\n    command: ["true"]\n');
    const remote = { ...env, WHARF_URL: server.url };
    const one = await runCli(['submit', file, '--json', '--idempotency-key', 'cli-1'], { env: remote });
    const two = await runCli(['submit', file, '--json', '--idempotency-key', 'cli-1'], { env: remote });
    assert.equal(one.code, 0, one.stderr);
    assert.equal((JSON.parse(one.stdout) as JobView).id, (JSON.parse(two.stdout) as JobView).id);
  });
});
