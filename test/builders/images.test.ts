// ImageBuilds with a scripted Builder: skip when the image exists, single-flight builds, failure
// and abort semantics. The real builders are tested in docker-builder and buildah-builder.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BuildContextError, BuildError } from '../../src/builders/errors.js';
import { ImageBuilds } from '../../src/builders/images.js';
import type { Builder, BuildRequest } from '../../src/builders/types.js';
import type { BuildPlan } from '../../src/spec/plan.js';

interface Deferred { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void }
function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** Records calls; each build waits for `gate` and sees its signal. */
class ScriptedBuilder implements Builder {
  readonly name = 'docker' as const;
  readonly existing = new Set<string>();
  readonly builds: BuildRequest[] = [];
  gate: Deferred | undefined;
  started = deferred();
  existsError: Error | undefined;

  async exists(ref: string): Promise<boolean> {
    if (this.existsError) throw this.existsError;
    return this.existing.has(ref);
  }

  async build(req: BuildRequest): Promise<void> {
    this.builds.push(req);
    req.log('Step 1/1 : FROM scratch');
    this.started.resolve();
    if (this.gate) {
      const aborted = new Promise<never>((_, reject) => req.signal.addEventListener('abort', () => reject(req.signal.reason as Error), { once: true }));
      await Promise.race([this.gate.promise, aborted]);
    }
    this.existing.add(req.pushRef);
  }
}

const refs = (tag: string): { push: string; pull: string } => ({ push: `localhost:5000/app:${tag}`, pull: `127.0.0.1:5000/app:${tag}` });

/** One build held at its gate, with a second request of the same tag joined to it. */
async function twoWaiters(build: BuildPlan) {
  const builder = new ScriptedBuilder();
  const gate = deferred();
  builder.gate = gate;
  const images = new ImageBuilds({ builder, refs });
  const lb = joiningLog();
  const a = images.resolve(build, () => undefined, new AbortController().signal);
  await builder.started.promise;
  const b = images.resolve(build, lb.log, new AbortController().signal);
  // b joins once its own digest is done; the build is still held at the gate.
  await lb.joined;
  return { builder, gate, images, lb, a, b };
}

describe('ImageBuilds', () => {
  let dir: string;
  let build: BuildPlan;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-images-'));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY a /a\n');
    writeFileSync(join(dir, 'a'), 'a');
    build = { context: dir, dockerfile: 'Dockerfile', args: {} };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('builds a missing image under its push ref and returns the pull ref; then skips it', async () => {
    const builder = new ScriptedBuilder();
    const images = new ImageBuilds({ builder, refs });
    const log1: string[] = [];
    const first = await images.resolve(build, (l) => log1.push(l), new AbortController().signal);
    assert.equal(first.built, true);
    assert.equal(first.image, `127.0.0.1:5000/app:${first.tag}`);
    assert.equal(builder.builds.length, 1);
    assert.equal(builder.builds[0]?.pushRef, `localhost:5000/app:${first.tag}`);
    assert.equal(builder.builds[0]?.pullRef, first.image);
    assert.ok(log1.includes('Step 1/1 : FROM scratch'), log1.join('\n'));

    const log2: string[] = [];
    const second = await images.resolve(build, (l) => log2.push(l), new AbortController().signal);
    assert.deepEqual(second, { ...first, built: false });
    assert.equal(builder.builds.length, 1);
    assert.ok(log2.includes(`[build] image localhost:5000/app:${first.tag} exists, build skipped`), log2.join('\n'));
  });

  it('builds once for concurrent requests of one tag; both logs see the build', async () => {
    const { builder, gate, lb, a, b } = await twoWaiters(build);
    gate.resolve();
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(builder.builds.length, 1);
    assert.equal(ra.image, rb.image);
    assert.equal(ra.built, true);
    assert.equal(rb.built, true);
    assert.ok(lb.lines.some((l) => l.startsWith('[build] built ')), lb.lines.join('\n'));
  });

  it('rejects every waiter with the build\'s error, and a later request builds afresh', async () => {
    const { builder, gate, images, a, b } = await twoWaiters(build);
    gate.reject(new BuildError('docker build of x failed: boom'));
    await assert.rejects(a, /boom/);
    await assert.rejects(b, /boom/);
    builder.gate = undefined;
    await images.resolve(build, () => undefined, new AbortController().signal);
    assert.equal(builder.builds.length, 2);
  });

  it('lets one waiter leave without stopping the build for the other; the last one leaving stops it', async () => {
    const builder = new ScriptedBuilder();
    builder.gate = deferred();
    const images = new ImageBuilds({ builder, refs });
    const ca = new AbortController();
    const cb = new AbortController();
    const lb = joiningLog();
    const a = images.resolve(build, () => undefined, ca.signal);
    await builder.started.promise;
    const b = images.resolve(build, lb.log, cb.signal);
    await lb.joined;
    ca.abort(new Error('task a canceled'));
    await assert.rejects(a, /task a canceled/);
    assert.equal(builder.builds[0]?.signal.aborted, false, 'b still waits, so the build goes on');
    builder.gate.resolve();
    assert.equal((await b).built, true);

    // Now a build whose only waiter leaves: its signal aborts.
    const other: BuildPlan = { ...build, args: { X: '1' } };
    builder.gate = deferred();
    builder.started = deferred();
    const cc = new AbortController();
    const c = images.resolve(other, () => undefined, cc.signal);
    await builder.started.promise;
    cc.abort(new Error('task c canceled'));
    await assert.rejects(c, /task c canceled/);
    assert.equal(builder.builds[1]?.signal.aborted, true);
  });

  it('wraps a failing existence check in a BuildError and refuses a bad context before any builder call', async () => {
    const builder = new ScriptedBuilder();
    builder.existsError = new Error('registry 127.0.0.1:1: connection refused');
    const images = new ImageBuilds({ builder, refs });
    await assert.rejects(images.resolve(build, () => undefined, new AbortController().signal), (e: unknown) => {
      assert.ok(e instanceof BuildError);
      assert.match(e.message, /could not check whether image localhost:5000\/app:[0-9a-f]{32} exists: registry 127\.0\.0\.1:1: connection refused/);
      return true;
    });
    await assert.rejects(images.resolve({ ...build, dockerfile: 'Nope' }, () => undefined, new AbortController().signal), BuildContextError);
    assert.equal(builder.builds.length, 0);
  });
});

/** A log that records lines and resolves `joined` when the caller reports it waits for a build. */
function joiningLog(): { lines: string[]; log: (l: string) => void; joined: Promise<void> } {
  const lines: string[] = [];
  let seen!: () => void;
  const joined = new Promise<void>((r) => { seen = r; });
  return { lines, joined, log: (l) => { lines.push(l); if (l.includes('waiting for the same build')) seen(); } };
}
