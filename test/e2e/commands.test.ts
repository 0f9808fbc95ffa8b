// The listing and control commands, in-process (no server).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cliEnv, runCli, tempHome } from '../helpers/cli.js';

const home = tempHome();
after(home.cleanup);
const env = cliEnv({ WHARF_HOME: home.dir });

test('submit --follow of a failing job exits 1; jobs filters; retry reruns; cancel; unknown ids', async () => {
  const failing = 'name: flaky\nlabels: { team: data }\ntasks:\n  a:\n    command: [sh, -c, "echo try $WHARF_ATTEMPT; exit 2"]\n  b:\n    needs: [a]\n    command: ["true"]\n';
  const r = await runCli(['submit', '-', '--follow'], { env, input: failing });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /a \| try 1/);
  assert.match(r.stderr, /b: upstream_failed/);
  const id = /submitted job (\S+)/.exec(r.stderr)?.[1] ?? '';

  const listed = await runCli(['jobs', '-l', 'team=data'], { env });
  assert.equal(listed.code, 0);
  assert.match(listed.stdout, new RegExp(`${id}\\s+flaky\\s+failed\\s+1 failed, 1 upstream_failed`));
  const none = await runCli(['jobs', '--state', 'succeeded', '-l', 'team=data'], { env });
  assert.doesNotMatch(none.stdout, new RegExp(id));
  const bad = await runCli(['jobs', '-l', 'oops'], { env });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--label: expected KEY=VALUE, got "oops"/);

  const retried = await runCli(['retry', id], { env });
  assert.equal(retried.code, 0, retried.stderr);
  assert.equal(retried.stdout, `job ${id}: running\n`);
  const followed = await runCli(['logs', id, 'a', '-f'], { env });
  assert.equal(followed.stdout, 'try 1\ntry 2\n');
  const shown = await runCli(['job', id], { env });
  assert.match(shown.stdout, /a\s+1\s+local\s+exited 2/);
  assert.match(shown.stdout, /failed\s+2\s+local\s+exited 2/);

  const queued = await runCli(['submit', '-', '--json'], { env, input: 'name: idle\ntasks:\n  x:\n    command: [sleep, "30"]\n' });
  const qid = (JSON.parse(queued.stdout) as { id: string }).id;
  const canceled = await runCli(['cancel', qid], { env });
  assert.equal(canceled.stdout, `job ${qid}: canceled\n`);
  const again = await runCli(['cancel', qid], { env });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already ended \(canceled\)/);

  const missing = await runCli(['job', 'nope'], { env });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no job "nope"/);
});
