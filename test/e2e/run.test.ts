// `wharf run`: exit statuses and output, in-process and through a server; both must agree.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { CLI, cliEnv, runCli, startServer, tempHome, type Server } from '../helpers/cli.js';

/** `wharf run` of a long task, interrupted with Ctrl-C (SIGINT) once its output shows it runs. */
async function interrupted(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'run', '--', 'sh', '-c', 'echo started; exec sleep 30'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const closed = once(child, 'close');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  for await (const chunk of child.stdout) {
    if (String(chunk).includes('started')) break;
  }
  child.kill('SIGINT');
  const [code] = (await closed) as [number | null];
  clearTimeout(timer);
  return { code, stderr };
}

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

  test('Ctrl-C cancels the task and exits 130', async () => {
    const r = await interrupted(cliEnv({ WHARF_HOME: home.dir }));
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /canceled/);
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
  test('Ctrl-C cancels the task and exits 130', async () => {
    const r = await interrupted(cliEnv({ WHARF_HOME: home.dir, WHARF_URL: server.url }));
    assert.equal(r.code, 130, r.stderr);
  });
  for (const c of cases) {
    test(c.name, async () => {
      const r = await runCli(['run', ...c.args], { env: cliEnv({ WHARF_HOME: home.dir, WHARF_URL: server.url }) });
      assert.equal(r.code, c.code, `stderr: ${r.stderr}`);
      if (c.stdout !== undefined) assert.equal(r.stdout, c.stdout);
      if (c.stderr) assert.match(r.stderr, c.stderr);
    });
  }
});
