// Runs every compiled test file with node's test runner; its summary (ℹ tests/pass/fail) ends
// the output. Arguments narrow the run to files whose path contains one of them.
// One dockerd (with a busybox image) serves the whole run; tests find it in WHARF_TEST_DOCKER,
// or the reason it could not start in WHARF_TEST_DOCKER_ERROR (so docker tests fail with it).
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
const daemon = spawn(process.execPath, [join(root, 'infra/docker-daemon.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
const daemonExit = once(daemon, 'exit');
const [line] = await once(createInterface({ input: daemon.stdout }), 'line');
const started = JSON.parse(line);
if (started.ok) env.WHARF_TEST_DOCKER = JSON.stringify(started.ok);
else env.WHARF_TEST_DOCKER_ERROR = started.error;

const tests = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=2', ...chosen], { stdio: 'inherit', env });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => tests.kill(sig));
const [code] = await once(tests, 'exit');
daemon.stdin.end();
await daemonExit;
process.exit(code ?? 1);
