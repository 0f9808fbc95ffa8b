// Runs every compiled test file with node's test runner; its summary (ℹ tests/pass/fail) ends
// the output. Arguments narrow the run to files whose path contains one of them.
// One dockerd (with a busybox image) serves the whole run; tests find it in WHARF_TEST_DOCKER,
// or the reason it could not start in WHARF_TEST_DOCKER_ERROR (so docker tests fail with it).
// One PostgreSQL cluster too (WHARF_TEST_POSTGRES): each test makes its own database in it.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

const root = new URL('../dist/test/', import.meta.url).pathname;
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
})(root);
const filters = process.argv.slice(2);
const chosen = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
if (chosen.length === 0) {
  console.error('no test files found under dist/test');
  process.exit(1);
}

const env = { ...process.env };
/** Starts a helper that answers one JSON line ({ok} or {error}) and stops when its stdin closes. */
async function helper(args) {
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  return { started: JSON.parse(line), stop: async () => { child.stdin.end(); await exited; } };
}
const [docker, postgres] = await Promise.all([
  helper([join(root, 'infra/docker-daemon.js')]),
  helper([join(root, 'infra/postgres.js'), 'serve']),
]);
if (docker.started.ok) env.WHARF_TEST_DOCKER = JSON.stringify(docker.started.ok);
else env.WHARF_TEST_DOCKER_ERROR = docker.started.error;
// Without it, each test process starts a cluster of its own (and reports why that fails).
if (postgres.started.ok) env.WHARF_TEST_POSTGRES = JSON.stringify(postgres.started.ok);

const tests = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=2', ...chosen], { stdio: 'inherit', env });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => tests.kill(sig));
const [code] = await once(tests, 'exit');
await Promise.all([docker.stop(), postgres.stop()]);
process.exit(code ?? 1);
