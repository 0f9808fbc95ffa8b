// A five-task DAG through `wharf submit --follow` against a running `wharf serve`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliEnv, runCli, startServer, tempHome, type Server } from '../helpers/cli.js';
import type { JobView } from '../../src/spec/api.js';

const home = tempHome();
let server: Server;
before(async () => { server = await startServer([], cliEnv({ WHARF_HOME: home.dir })); });
after(async () => { await server.stop(); home.cleanup(); });

test('fan-out, fan-in, a retry, unicode, stderr and a last line without newline', async () => {
  const mark = join(home.dir, 'flaky-mark');
  const file = join(home.dir, 'dag.yaml');
  writeFileSync(file, `
name: five tasks
labels: { suite: e2e }
tasks:
  prep:
    command: [sh, -c, 'echo "prep: $GREETING"']
    env: { GREETING: "héllo wörld 🌍 — 你好" }
  left:
    needs: [prep]
    command: [sh, -c, 'i=1; while [ $i -le 200 ]; do echo "left line $i"; i=$((i+1)); done']
  right:
    needs: [prep]
    retries: { limit: 1, backoff: { initial: 100ms } }
    env: { MARK: "${mark}" }
    command: [sh, -c, 'if [ -e "$MARK" ]; then echo "right ok on attempt $WHARF_ATTEMPT"; else touch "$MARK"; echo "right fails once" >&2; exit 1; fi']
  noisy:
    needs: [prep]
    command: [sh, -c, 'echo "to stderr ✓" >&2; echo "to stdout"']
  join:
    needs: [left, right, noisy]
    command: [sh, -c, 'printf "joined\\nno newline at the end"']
`);
  const env = cliEnv({ WHARF_HOME: home.dir, WHARF_URL: server.url });
  const r = await runCli(['submit', file, '--follow'], { env });
  assert.equal(r.code, 0, r.stderr);

  const out = r.stdout.split('\n');
  const left = out.filter((l) => l.startsWith('left ')).map((l) => l.replace(/^left\s+\| /, ''));
  assert.deepEqual(left, Array.from({ length: 200 }, (_, i) => `left line ${i + 1}`));
  assert.ok(out.includes('prep  | prep: héllo wörld 🌍 — 你好'), r.stdout);
  assert.ok(out.includes('right | right ok on attempt 2'), r.stdout);
  assert.ok(out.includes('noisy | to stdout'));
  assert.ok(out.includes('join  | joined'));
  assert.ok(out.includes('join  | no newline at the end'));
  assert.match(r.stderr, /right \| right fails once/);
  assert.match(r.stderr, /noisy \| to stderr ✓/);
  assert.match(r.stderr, /right: attempt 1 exited 1/);
  assert.match(r.stderr, /job \S+: succeeded/);
  // prep's output comes before the output of the tasks that need it.
  assert.ok(out.indexOf('prep  | prep: héllo wörld 🌍 — 你好') < out.indexOf('left  | left line 1'));

  const id = /submitted job (\S+)/.exec(r.stderr)?.[1];
  assert.ok(id);
  const shown = await runCli(['job', id, '--json'], { env });
  const job = JSON.parse(shown.stdout) as JobView;
  assert.equal(job.state, 'succeeded');
  const right = job.tasks.find((t) => t.name === 'right');
  assert.deepEqual(right?.attempts.map((a) => a.outcome?.kind), ['exited', 'succeeded']);
  const logs = await runCli(['logs', id, 'join'], { env });
  assert.equal(logs.stdout, 'joined\nno newline at the end');
});
