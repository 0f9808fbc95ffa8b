// `wharf validate` lists every error at once; `wharf schema` prints the JSON Schema.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliEnv, runCli, tempHome } from '../helpers/cli.js';

const home = tempHome();
after(home.cleanup);
const env = cliEnv({ WHARF_HOME: home.dir });

test('a bad duration, an unknown need, a wrong type and a cycle are all named', async () => {
  const file = join(home.dir, 'bad.yaml');
  writeFileSync(file, `
name: broken
tasks:
  a:
    command: [sh, -c, 'true']
    timeout: soon
  b:
    command: [sh, -c, 'true']
    needs: [c, ghost]
  c:
    command: echo
    needs: [b]
`);
  const r = await runCli(['validate', file], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /tasks\.a\.timeout: expected a duration such as "30s", got "soon"/);
  assert.match(r.stderr, /tasks\.b\.needs\[1\]: no task "ghost"/);
  assert.match(r.stderr, /tasks\.c\.command: expected a list of strings/);
  assert.match(r.stderr, /dependency cycle: b → c → b/);
});

test('a valid file passes, and JSON works too', async () => {
  const file = join(home.dir, 'ok.json');
  writeFileSync(file, JSON.stringify({ name: 'ok', tasks: { a: { command: ['true'] } } }));
  const r = await runCli(['validate', file], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /valid \(1 task\)/);
});

test('did you mean', async () => {
  const r = await runCli(['validate', '-'], { env, input: 'name: x\ntasks:\n  a:\n    comand: [true]\n' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /tasks\.a\.comand: unknown field "comand"; did you mean "command"\?/);
});

test('wharf schema prints the job JSON Schema', async () => {
  const r = await runCli(['schema'], { env });
  assert.equal(r.code, 0);
  const s = JSON.parse(r.stdout) as { properties?: Record<string, unknown> };
  assert.ok(s.properties?.tasks);
});
