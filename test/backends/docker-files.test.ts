// The docker backend's inputs and outputs: host trees into a container before it starts, and
// container paths out to the host after it ends.
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runToEnd, setup, type Ctx } from './docker-helpers.js';

/** Every path under dir with what it is: file contents (base64), symlink targets, directories. */
function tree(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const rel = `${prefix}${name}`;
    const st = lstatSync(p);
    if (st.isSymbolicLink()) out[rel] = `-> ${readlinkSync(p)}`;
    else if (st.isDirectory()) Object.assign(out, { [`${rel}/`]: (st.mode & 0o777).toString(8) }, tree(p, `${rel}/`));
    else out[rel] = `${(st.mode & 0o777).toString(8)} ${readFileSync(p).toString('base64')}`;
  }
  return out;
}

describe('docker backend: inputs and outputs', () => {
  let ctx: Ctx;
  const host = mkdtempSync(join(tmpdir(), 'wharf-docker-files-'));
  const src = join(host, 'src');
  before(async () => {
    ctx = await setup('files');
    mkdirSync(join(src, 'a', 'b', 'c'), { recursive: true });
    mkdirSync(join(src, 'empty'));
    writeFileSync(join(src, 'top.txt'), 'top\n');
    writeFileSync(join(src, 'a', 'b', 'c', 'deep.bin'), Buffer.from([0, 1, 2, 255, 254]));
    writeFileSync(join(src, 'a', 'big'), Buffer.alloc(3 * 1024 * 1024, 7));
    writeFileSync(join(src, 'a', 'run.sh'), '#!/bin/sh\necho ran\n');
    chmodSync(join(src, 'a', 'run.sh'), 0o755);
    symlinkSync('b/c/deep.bin', join(src, 'a', 'link'));
  });
  after(async () => {
    await ctx.cleanup();
    rmSync(host, { recursive: true, force: true });
  });

  it('round-trips a directory with nested files, modes and symlinks', async () => {
    const out = join(host, 'out1');
    const r = await runToEnd(ctx, 'trip', ['sh', '-c', '/in/src/a/run.sh && cp -a /in/src /out/copy && echo made > /out/new'], {
      inputs: [{ from: src, to: '/in' }],
      outputs: [{ from: '/out', to: out }],
    });
    assert.deepEqual([r.exit, r.stdout, r.stderr], [{ kind: 'exited', code: 0 }, 'ran\n', '']);
    const got = tree(join(out, 'out', 'copy'));
    assert.deepEqual(got, tree(src));
    assert.equal(readFileSync(join(out, 'out', 'new'), 'utf8'), 'made\n');
  });

  it('puts a single file into a directory that is not in the image, under /tmp and on a writable rootfs', async () => {
    const out = join(host, 'out2');
    const r = await runToEnd(ctx, 'single', ['sh', '-c', 'cat /tmp/in/top.txt /opt/x/y/top.txt && cp /tmp/in/top.txt /tmp/res/ && cp /tmp/in/top.txt /result.txt'], {
      writableRootfs: true,
      inputs: [{ from: join(src, 'top.txt'), to: '/tmp/in' }, { from: join(src, 'top.txt'), to: '/opt/x/y' }],
      outputs: [{ from: '/tmp/res', to: out }, { from: '/result.txt', to: out }],
    });
    assert.deepEqual([r.exit, r.stdout], [{ kind: 'exited', code: 0 }, 'top\ntop\n']);
    assert.equal(readFileSync(join(out, 'res', 'top.txt'), 'utf8'), 'top\n');
    assert.equal(readFileSync(join(out, 'result.txt'), 'utf8'), 'top\n');
  });

  it('gives a non-root task input files it owns, whether its user is a name, a uid or uid:gid', async () => {
    for (const [user, ids] of [['nobody', '65534 65534'], ['4321', '4321 0'], ['4321:777', '4321 777'], ['nobody:0', '65534 0']] as const) {
      const runId = `owner-${user.replace(/\W/g, '-')}`;
      const r = await runToEnd(ctx, runId, ['sh', '-c', 'stat -c "%u %g" /in/src/a/b/c/deep.bin && echo more >> /in/src/top.txt && cat /in/src/top.txt'], {
        user, inputs: [{ from: src, to: '/in' }],
      });
      assert.deepEqual([r.exit, r.stdout], [{ kind: 'exited', code: 0 }, `${ids}\ntop\nmore\n`], `user ${user}: ${r.stderr}`);
    }
  });

  it('makes a missing output after exit 0 an error naming the path, and keeps a failing exit', async () => {
    const out = join(host, 'out3');
    const ok = await runToEnd(ctx, 'noout', ['true'], { writableRootfs: true, outputs: [{ from: '/nothing/here', to: out }] });
    assert.equal(ok.exit.kind, 'error');
    assert.match(ok.exit.kind === 'error' ? ok.exit.reason : '', /output \/nothing\/here → .*out3: Could not find the file \/nothing\/here/);
    const bad = await runToEnd(ctx, 'noout2', ['sh', '-c', 'exit 2'], { writableRootfs: true, outputs: [{ from: '/nothing/here', to: out }] });
    assert.deepEqual(bad.exit, { kind: 'exited', code: 2 });
  });

  it('reports an input that does not exist as start_failed naming it', async () => {
    const r = await runToEnd(ctx, 'noin', ['true'], { inputs: [{ from: join(host, 'missing'), to: '/in' }] });
    assert.equal(r.exit.kind, 'start_failed');
    assert.match(r.exit.kind === 'start_failed' ? r.exit.reason : '', /input .*missing → \/in: ENOENT/);
  });

  it('leaves no volume behind once its runs are removed', async () => {
    const filters = { label: [`wharf.dev/instance=${ctx.instanceId}`] };
    const before = await ctx.engine.request<{ Volumes: unknown[] | null }>('GET', '/volumes', { query: { filters } });
    assert.ok((before.Volumes ?? []).length > 0, 'the runs above had volumes');
    for (const o of await ctx.backend.listOwned({})) await ctx.backend.remove(o.runId);
    const after = await ctx.engine.request<{ Volumes: unknown[] | null }>('GET', '/volumes', { query: { filters } });
    assert.deepEqual(after.Volumes ?? [], []);
    assert.deepEqual(await ctx.containers(), []);
  });
});
