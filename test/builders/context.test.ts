// Build contexts: what is sent (.dockerignore as Docker applies it), the tar's determinism, the
// content tag's sensitivity, refusals that name the field, and streaming of large files.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, openSync, closeSync, rmSync, symlinkSync, utimesSync, writeFileSync, writeSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import { extract } from 'tar-stream';
import { tagBuild } from '../../src/builders/content-tag.js';
import { contextDigest, contextTar, loadContext } from '../../src/builders/context.js';
import { BuildContextError } from '../../src/builders/errors.js';
import type { BuildPlan } from '../../src/spec/plan.js';

let root: string;
let n = 0;

function makeDir(files: Record<string, string>): string {
  const dir = join(root, `ctx${++n}`);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

function plan(context: string, over: Partial<BuildPlan> = {}): BuildPlan {
  return { context, dockerfile: 'Dockerfile', args: {}, ...over };
}

interface TarEntry { name: string; type: string; size: number; mode: number; mtime: number; uid: number; linkname?: string; body: string }

async function readTar(dir: string, p: Partial<BuildPlan> = {}): Promise<TarEntry[]> {
  const ctx = await loadContext(plan(dir, p));
  const out: TarEntry[] = [];
  const ex = extract();
  const done = (async () => {
    for await (const entry of ex) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      const h = entry.header;
      out.push({ name: h.name, type: h.type, size: h.size, mode: h.mode, mtime: h.mtime.getTime(), uid: h.uid, ...(h.linkname ? { linkname: h.linkname } : {}), body: Buffer.concat(chunks).toString() });
    }
  })();
  for await (const chunk of contextTar(ctx)) ex.write(chunk);
  ex.end(undefined);
  await done;
  return out;
}

const names = (entries: TarEntry[]): string[] => entries.map((e) => e.name.replace(/\/$/, ''));

async function tag(dir: string, p: Partial<BuildPlan> = {}): Promise<string> {
  return (await tagBuild(plan(dir, p))).tag;
}

describe('build context', () => {
  before(() => { root = mkdtempSync(join(tmpdir(), 'wharf-ctx-')); });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('honours .dockerignore as Docker does, always sending the Dockerfile and .dockerignore', async () => {
    const dir = makeDir({
      Dockerfile: 'FROM scratch\n',
      '.dockerignore': '# comment\nsecret.txt\nlogs/*\n!logs/keep.log\n*.tmp\n!important.tmp\nbuild\nDockerfile\n.dockerignore\n**/*.bak\n',
      'app.txt': 'app',
      'secret.txt': 'hush',
      'logs/a.log': 'a',
      'logs/keep.log': 'keep',
      'x.tmp': 'x',
      'important.tmp': 'i',
      'build/out/bin': 'b',
      'sub/y.tmp': 'kept: * does not cross directories',
      'sub/z.bak': 'z',
    });
    const entries = await readTar(dir);
    assert.deepEqual(names(entries), ['.dockerignore', 'Dockerfile', 'app.txt', 'important.tmp', 'logs', 'logs/keep.log', 'sub', 'sub/y.tmp']);
  });

  it('walks into an excluded directory only for an exception that starts with it (Docker\'s rule)', async () => {
    const dir = makeDir({ Dockerfile: 'FROM scratch\n', '.dockerignore': 'vendor\n!vendor/keep/\n', 'vendor/keep/k': 'k', 'vendor/drop': 'd' });
    assert.deepEqual(names(await readTar(dir)), ['.dockerignore', 'Dockerfile', 'vendor/keep', 'vendor/keep/k']);
  });

  it('writes a normalized tar: sorted, mtime 0, uid 0, modes and symlinks kept, content whole', async () => {
    const dir = makeDir({ Dockerfile: 'FROM scratch\n', 'b/run.sh': '#!/bin/sh\n', 'a.txt': 'hello' });
    chmodSync(join(dir, 'b/run.sh'), 0o755);
    chmodSync(join(dir, 'a.txt'), 0o640);
    symlinkSync('a.txt', join(dir, 'link'));
    const entries = await readTar(dir);
    assert.deepEqual(entries.map((e) => [e.name.replace(/\/$/, ''), e.type, e.mode, e.mtime, e.uid, e.linkname ?? '', e.body]), [
      ['Dockerfile', 'file', 0o644, 0, 0, '', 'FROM scratch\n'],
      ['a.txt', 'file', 0o640, 0, 0, '', 'hello'],
      ['b', 'directory', 0o755, 0, 0, '', ''],
      ['b/run.sh', 'file', 0o755, 0, 0, '', '#!/bin/sh\n'],
      ['link', 'symlink', 0o777, 0, 0, 'a.txt', ''],
    ]);
  });

  it('gives the same digest across runs, copies and mtimes', async () => {
    const dir = makeDir({ Dockerfile: 'FROM scratch\nCOPY . /\n', 'a/b/c.txt': 'c', 'd.txt': 'd' });
    const first = await contextDigest(await loadContext(plan(dir)));
    assert.match(first, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await contextDigest(await loadContext(plan(dir))), first);
    utimesSync(join(dir, 'd.txt'), new Date(1_000_000), new Date(2_000_000));
    utimesSync(join(dir, 'a/b'), new Date(1_000_000), new Date(3_000_000));
    const copy = join(root, `copy${++n}`);
    cpSync(dir, copy, { recursive: true });
    assert.equal(await contextDigest(await loadContext(plan(dir))), first);
    assert.equal(await contextDigest(await loadContext(plan(copy))), first);
  });

  it('changes the tag for a one-byte change, a mode, a symlink target, args and target; not for ignored files', async () => {
    const dir = makeDir({ Dockerfile: 'FROM scratch\n', '.dockerignore': 'ignored.txt\n', 'f.txt': 'aaaa', 'ignored.txt': '1' });
    symlinkSync('f.txt', join(dir, 'l'));
    const base = await tag(dir);
    assert.match(base, /^[0-9a-f]{32}$/);
    const tags = new Set([base]);
    const expectNew = async (what: string, t: string): Promise<void> => {
      assert.ok(!tags.has(t), `${what} should change the tag`);
      tags.add(t);
    };

    writeFileSync(join(dir, 'ignored.txt'), '2: changed but ignored');
    assert.equal(await tag(dir), base);

    writeFileSync(join(dir, 'f.txt'), 'aaab');
    await expectNew('a one-byte change', await tag(dir));
    writeFileSync(join(dir, 'f.txt'), 'aaaa');
    assert.equal(await tag(dir), base, 'restoring the byte restores the tag');

    chmodSync(join(dir, 'f.txt'), 0o755);
    await expectNew('a mode change', await tag(dir));
    chmodSync(join(dir, 'f.txt'), 0o644);

    rmSync(join(dir, 'l'));
    symlinkSync('other', join(dir, 'l'));
    await expectNew('a symlink target', await tag(dir));
    rmSync(join(dir, 'l'));
    symlinkSync('f.txt', join(dir, 'l'));
    assert.equal(await tag(dir), base);

    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch \n');
    await expectNew('a Dockerfile change', await tag(dir));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');

    await expectNew('an arg', await tag(dir, { args: { A: '1' } }));
    await expectNew('an arg value', await tag(dir, { args: { A: '2' } }));
    await expectNew('a target', await tag(dir, { target: 'final' }));
    assert.equal(await tag(dir, { args: { A: '1', B: '2' } }), await tag(dir, { args: { B: '2', A: '1' } }), 'arg order does not matter');
    assert.equal(await tag(dir, { dockerfile: './Dockerfile' }), base, 'the Dockerfile path is normalized');
  });

  it('refuses a missing or relative context and a missing, escaping or directory Dockerfile, naming the field', async () => {
    const dir = makeDir({ Dockerfile: 'FROM scratch\n', 'sub/x': 'x' });
    writeFileSync(join(root, 'outside.Dockerfile'), 'FROM scratch\n');
    symlinkSync(join(root, 'outside.Dockerfile'), join(dir, 'escaping.Dockerfile'));
    const refuse = async (p: BuildPlan, field: string, re: RegExp): Promise<void> => {
      await assert.rejects(loadContext(p), (e: unknown) => {
        assert.ok(e instanceof BuildContextError, String(e));
        assert.equal(e.field, field);
        assert.match(e.message, re);
        assert.ok(e.message.startsWith(`${field}: `), e.message);
        return true;
      });
    };
    await refuse(plan(join(root, 'nope')), 'build.context', /nope does not exist/);
    await refuse(plan('relative/dir'), 'build.context', /expected an absolute directory/);
    await refuse(plan(join(dir, 'Dockerfile')), 'build.context', /is not a directory/);
    await refuse(plan(dir, { dockerfile: 'Missing.Dockerfile' }), 'build.dockerfile', /Missing\.Dockerfile does not exist/);
    await refuse(plan(dir, { dockerfile: '../outside.Dockerfile' }), 'build.dockerfile', /outside the build context/);
    await refuse(plan(dir, { dockerfile: '/etc/passwd' }), 'build.dockerfile', /outside the build context/);
    await refuse(plan(dir, { dockerfile: 'escaping.Dockerfile' }), 'build.dockerfile', /outside the build context/);
    await refuse(plan(dir, { dockerfile: 'sub' }), 'build.dockerfile', /not a regular file/);
  });

  it('streams a large file: live memory stays flat while 128 MiB pass through', async (t) => {
    const dir = makeDir({ Dockerfile: 'FROM scratch\n' });
    const big = join(dir, 'big.bin');
    const size = 128 * 1024 * 1024;
    const fd = openSync(big, 'w');
    writeSync(fd, Buffer.from('end'), 0, 3, size - 3); // sparse: the disk holds almost nothing
    closeSync(fd);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // Freed buffers are swept in the background; a second collection a turn later sees them gone.
    const live = async (): Promise<number> => {
      gc();
      await new Promise((r) => setImmediate(r));
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const ctx = await loadContext(plan(dir));
    const baseline = await live();
    let total = 0;
    let next = size / 4;
    let worst = 0;
    for await (const chunk of contextTar(ctx)) {
      total += (chunk as Buffer).length;
      if (total > next) {
        worst = Math.max(worst, (await live()) - baseline);
        next += size / 4;
      }
    }
    assert.ok(total > size, `the tar holds the whole file (${total} bytes)`);
    t.diagnostic(`live memory grew by at most ${(worst / 1024 / 1024).toFixed(1)} MiB`);
    // Loading the file whole, or reading ahead of the consumer, would hold tens of MiB here.
    assert.ok(worst < 24 * 1024 * 1024, `live memory grew by ${(worst / 1024 / 1024).toFixed(1)} MiB while a 128 MiB file streamed`);
  });

  it('fails the tar, naming the file, when a file shrinks between listing and reading', async () => {
    const dir = makeDir({ Dockerfile: 'FROM scratch\n', 'data.txt': 'twelve bytes' });
    const ctx = await loadContext(plan(dir));
    writeFileSync(join(dir, 'data.txt'), 'short');
    await assert.rejects(contextDigest(ctx), (e: unknown) => e instanceof BuildContextError && /data\.txt shrank while it was being read/.test(e.message));
  });

  it('stops reading the disk when the tar stream is destroyed', async () => {
    const dir = makeDir({ Dockerfile: 'FROM scratch\n' });
    const fd = openSync(join(dir, 'big.bin'), 'w');
    writeSync(fd, Buffer.from('x'), 0, 1, 20 * 1024 * 1024);
    closeSync(fd);
    const tar = contextTar(await loadContext(plan(dir)));
    let seen = 0;
    for await (const chunk of tar) {
      seen += (chunk as Buffer).length;
      if (seen > 1024 * 1024) break; // for-await's break destroys the stream
    }
    assert.ok(tar.destroyed);
    assert.ok(seen < 20 * 1024 * 1024);
  });
});
