// The local backend: how runs start, end and are reported.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DEFAULT_PATH } from '../../src/backends/local/index.js';
import { output, pidAlive, req, setup, waitUntil, type Ctx } from './local-helpers.js';

describe('local backend: runs', () => {
  let ctx: Ctx;
  beforeEach(() => { ctx = setup(); });
  afterEach(() => ctx.cleanup());

  it('keeps a non-zero exit code, and reports running then ended', async () => {
    await ctx.backend.start(req('r1', ['sh', '-c', 'exit 3']));
    const [, exit] = await Promise.all([output(ctx.backend, 'r1'), ctx.rec.ended('r1')]);
    assert.deepEqual(exit, { kind: 'exited', code: 3 });
    assert.deepEqual(ctx.rec.of('r1').map((e) => e.state.phase), ['running', 'ended']);
    const state = await ctx.backend.inspect('r1');
    assert.equal(state?.phase, 'ended');
  });

  it('reports exit 0', async () => {
    await ctx.backend.start(req('r0', ['true']));
    assert.deepEqual(await ctx.rec.ended('r0'), { kind: 'exited', code: 0 });
  });

  it('reports a missing command as start_failed, once, and never as an exit', async () => {
    await ctx.backend.start(req('nf', ['no-such-cmd', 'x']));
    assert.deepEqual(await ctx.rec.ended('nf'), { kind: 'start_failed', reason: 'command not found: no-such-cmd' });
    await new Promise((r) => setImmediate(r)); // let node's trailing exit(-2) happen, to see it ignored
    assert.deepEqual(ctx.rec.of('nf').map((e) => e.state.phase), ['ended']);
  });

  it('reports a command that is not executable as permission denied', async () => {
    const file = join(ctx.dir, 'not-exec.sh');
    writeFileSync(file, '#!/bin/sh\necho hi\n');
    chmodSync(file, 0o644);
    await ctx.backend.start(req('pd', [file]));
    assert.deepEqual(await ctx.rec.ended('pd'), { kind: 'start_failed', reason: `permission denied: ${file}` });
  });

  it('reports a missing absolute working directory', async () => {
    await ctx.backend.start(req('wd', ['true'], { plan: { workingDir: '/no/such/dir' } }));
    assert.deepEqual(await ctx.rec.ended('wd'), { kind: 'start_failed', reason: 'working directory not found: /no/such/dir' });
  });

  it('refuses a relative working directory that leaves the run dir', async () => {
    await ctx.backend.start(req('esc', ['true'], { plan: { workingDir: '../../x' } }));
    const exit = await ctx.rec.ended('esc');
    assert.equal(exit.kind, 'start_failed');
  });

  it('shows death by SIGKILL as signaled 9', async () => {
    await ctx.backend.start(req('k', ['sh', '-c', 'kill -9 $$']));
    assert.deepEqual(await ctx.rec.ended('k'), { kind: 'signaled', signal: 9, signalName: 'SIGKILL' });
  });

  it('gives exactly the env it was asked for, plus a default PATH, and unicode survives', async () => {
    const env = { FOO: 'bär ✓ 日本語', WHARF_JOB_ID: 'j-1', EMPTY: '' };
    await ctx.backend.start(req('env', ['env'], { env }));
    const { stdout } = await output(ctx.backend, 'env');
    assert.deepEqual(stdout.trimEnd().split('\n').sort(), ['EMPTY=', 'FOO=bär ✓ 日本語', `PATH=${DEFAULT_PATH}`, 'WHARF_JOB_ID=j-1']);
    assert.deepEqual(await ctx.rec.ended('env'), { kind: 'exited', code: 0 });
  });

  it('keeps a PATH that was given', async () => {
    await ctx.backend.start(req('envp', ['/usr/bin/env'], { env: { PATH: '/bin' } }));
    const { stdout } = await output(ctx.backend, 'envp');
    assert.equal(stdout, 'PATH=/bin\n');
  });

  it('gives each run a fresh, distinct, empty working directory', async () => {
    const script = 'pwd; ls -A; touch mark';
    await ctx.backend.start(req('w1', ['sh', '-c', script]));
    await ctx.backend.start(req('w2', ['sh', '-c', script]));
    const [o1, o2] = await Promise.all([output(ctx.backend, 'w1'), output(ctx.backend, 'w2')]);
    assert.equal(o1.stdout, `${ctx.workDir('w1')}\n`);
    assert.equal(o2.stdout, `${ctx.workDir('w2')}\n`);
    assert.ok(existsSync(join(ctx.workDir('w1'), 'mark')));
  });

  it('creates a relative working directory inside the run dir, and uses an absolute one as is', async () => {
    await ctx.backend.start(req('rel', ['pwd'], { plan: { workingDir: 'a/b' } }));
    await ctx.backend.start(req('abs', ['pwd'], { plan: { workingDir: ctx.dir } }));
    assert.equal((await output(ctx.backend, 'rel')).stdout, `${join(ctx.workDir('rel'), 'a/b')}\n`);
    assert.equal((await output(ctx.backend, 'abs')).stdout, `${ctx.dir}\n`);
  });

  it('refuses a second run with the same id, and bad ids', async () => {
    await ctx.backend.start(req('dup', ['true']));
    await assert.rejects(ctx.backend.start(req('dup', ['true'])), /already exists/);
    const other = ctx.other('second');
    await assert.rejects(other.backend.start(req('dup', ['true'])), /already exists/);
    await assert.rejects(ctx.backend.start(req('../x', ['true'])), /invalid run id/);
  });

  it('ends a run whose leader exits while a background child holds the pipes', async () => {
    const t0 = Date.now();
    await ctx.backend.start(req('bg', ['sh', '-c', 'sleep 100 & echo $!; exit 0']));
    const [{ stdout }, exit] = await Promise.all([output(ctx.backend, 'bg'), ctx.rec.ended('bg')]);
    assert.deepEqual(exit, { kind: 'exited', code: 0 });
    assert.ok(Date.now() - t0 < 1500);
    const bgPid = Number(stdout.trim());
    assert.ok(bgPid > 0);
    // Killed with its group; it may still be on its way out when the pipe closes.
    await waitUntil(() => !pidAlive(bgPid), 1000, 'the background sleep to die');
  });
});
