// `wharf run`: exit statuses and output, in-process and through a server; both must agree.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cliEnv, runCli, startServer, tempHome, type Server } from '../helpers/cli.js';

const cases: { name: string; args: string[]; code: number; stdout?: string; stderr?: RegExp }[] = [
  { name: 'exit 0 with output', args: ['--', 'sh', '-c', 'echo hi; echo oops >&2'], code: 0, stdout: 'hi\n', stderr: /oops/ },
  { name: 'exit 3 is kept', args: ['--', 'sh', '-c', 'exit 3'], code: 3 },
  { name: 'a missing command exits 125 with the reason', args: ['--', 'no-such-command-wharf'], code: 125, stderr: /command not found: no-such-command-wharf/ },
  { name: 'SIGKILL shows as such', args: ['--', 'sh', '-c', 'kill -9 $$'], code: 137, stderr: /SIGKILL/ },
  { name: 'env given and Wharf\'s own', args: ['-e', 'GREETING=grüße 🌍', '--', 'sh', '-c', 'printf "%s %s %s" "$GREETING" "$WHARF_TASK" "$WHARF_ATTEMPT"'], code: 0, stdout: 'grüße 🌍 main 1' },
  { name: 'a backend this installation does not run is refused', args: ['--backend', 'kubernetes', '--', 'true'], code: 125, stderr: /tasks\.main\.backend: the kubernetes backend is not available here \(available: local\)/ },
  { name: 'a timeout exits 124', args: ['--timeout', '200ms', '--', 'sleep', '30'], code: 124, stderr: /timed out after 200ms/ },
];

describe('wharf run, in-process', () => {
  const home = tempHome();
  after(home.cleanup);
  for (const c of cases) {
    test(c.name, async () => {
      const r = await runCli(['run', ...c.args], { env: cliEnv({ WHARF_HOME: home.dir }) });
      assert.equal(r.code, c.code, `stderr: ${r.stderr}`);
      if (c.stdout !== undefined) assert.equal(r.stdout, c.stdout);
      if (c.stderr) assert.match(r.stderr, c.stderr);
    });
  }

  test('runs only its own job: work queued by others is left for a worker', async () => {
    const env = cliEnv({ WHARF_HOME: home.dir });
    const queued = await runCli(['submit', '-', '--json'], { env, input: 'name: later\ntasks:\n  nap:\n    command: [sleep, "30"]\n' });
    assert.equal(queued.code, 0, queued.stderr);
    const id = (JSON.parse(queued.stdout) as { id: string }).id;
    const r = await runCli(['run', '--', 'true'], { env });
    assert.equal(r.code, 0, r.stderr);
    const shown = await runCli(['job', id, '--json'], { env });
    const job = JSON.parse(shown.stdout) as { state: string; tasks: { state: string; attempts: { state: string }[] }[] };
    assert.equal(job.state, 'queued');
    assert.deepEqual(job.tasks[0]?.attempts.map((a) => a.state), ['queued']);
  });

  test('a bad --env is refused before anything runs', async () => {
    const r = await runCli(['run', '-e', 'NOEQUALS', '--', 'true'], { env: cliEnv({ WHARF_HOME: home.dir }) });
    assert.equal(r.code, 125);
    assert.match(r.stderr, /--env: expected KEY=VALUE/);
  });
});

describe('wharf run, through wharf serve', () => {
  const home = tempHome();
  let server: Server;
  before(async () => { server = await startServer([], cliEnv({ WHARF_HOME: home.dir })); });
  after(async () => { await server.stop(); home.cleanup(); });
  for (const c of cases) {
    test(c.name, async () => {
      const r = await runCli(['run', ...c.args], { env: cliEnv({ WHARF_HOME: home.dir, WHARF_URL: server.url }) });
      assert.equal(r.code, c.code, `stderr: ${r.stderr}`);
      if (c.stdout !== undefined) assert.equal(r.stdout, c.stdout);
      if (c.stderr) assert.match(r.stderr, c.stderr);
    });
  }
});
