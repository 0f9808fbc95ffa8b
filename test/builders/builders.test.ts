// The docker and buildah builders against a real dockerd, a real docker-registry with htpasswd,
// and real buildah (vfs storage): build, push under one registry name and find under another,
// skip when the image exists, rebuild after a one-byte change, single-flight, failures, abort.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BuildahBuilder } from '../../src/builders/buildah/builder.js';
import { tagBuild } from '../../src/builders/content-tag.js';
import { DockerBuilder } from '../../src/builders/docker/builder.js';
import { BuildContextError, BuildError } from '../../src/builders/errors.js';
import { ImageBuilds, type ImageRefs } from '../../src/builders/images.js';
import { MapCredentialStore, registryAuthHeader, registryCredentials, RegistryClient, type CredentialStore } from '../../src/builders/registry/index.js';
import type { Builder, BuildRequest } from '../../src/builders/types.js';
import { demux, DockerEngine, jsonLines } from '../../src/docker/index.js';
import type { BuildPlan } from '../../src/spec/plan.js';
import { pushBaseImage } from '../infra/base-image.js';
import { testDocker } from '../infra/docker.js';
import { startRegistry, type TestRegistry } from '../infra/registry.js';

const USER = 'builder';
const PASS = 'Pa55-builder-secret';
const WRONG = 'Wr0ng-secret-value';
const LABEL = 'wharf-test-builders';

let engine: DockerEngine;
let reg: TestRegistry;
let base: string;
let work: string;
let storage: { root: string; runroot: string };

function creds(password: string): CredentialStore {
  const c = registryCredentials(USER, password);
  return new MapCredentialStore({ [reg.host]: c, [reg.alias]: c });
}

function makeBuilder(kind: 'docker' | 'buildah', credentials: CredentialStore): Builder {
  const client = new RegistryClient({ credentials });
  if (kind === 'docker') return new DockerBuilder({ engine, registry: { client, credentials } });
  return new BuildahBuilder({ ...storage, registry: { client, credentials }, killGraceMs: 3_000 });
}

let ctxN = 0;
function context(files: Record<string, string>): BuildPlan {
  const dir = join(work, `ctx${++ctxN}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return { context: dir, dockerfile: 'Dockerfile', args: {} };
}

/** Pushes to the registry's `localhost` name; the pull name is its `127.0.0.1` one. */
const refsFor = (repo: string) => (tag: string): ImageRefs => ({ push: `${reg.alias}/${repo}:${tag}`, pull: `${reg.host}/${repo}:${tag}` });

async function engineStreamOk(method: string, path: string, query: Record<string, string>, auth: string): Promise<void> {
  const res = await engine.stream(method, path, { query, headers: { 'x-registry-auth': auth } });
  for await (const _ of jsonLines(res)) { /* drain; failures throw */ }
}

/** Runs `cat` of the given files in the image through the engine; the container is removed. */
async function catInImage(image: string, files: string[]): Promise<string> {
  const { Id } = await engine.request<{ Id: string }>('POST', '/containers/create', {
    body: { Image: image, Cmd: ['cat', ...files], HostConfig: { NetworkMode: 'none' }, Labels: { [LABEL]: '1' } },
  });
  try {
    await engine.request('POST', `/containers/${Id}/start`);
    const { StatusCode } = await engine.request<{ StatusCode: number }>('POST', `/containers/${Id}/wait`);
    let out = '';
    for await (const f of demux(await engine.stream('GET', `/containers/${Id}/logs`, { query: { stdout: true, stderr: true } }))) out += f.data.toString();
    assert.equal(StatusCode, 0, out);
    return out;
  } finally {
    await engine.request('DELETE', `/containers/${Id}`, { query: { force: true } });
  }
}

/** Makes `image` (from the registry, under its pull name) runnable by the engine. */
async function pullIntoEngine(image: string): Promise<void> {
  const colon = image.lastIndexOf(':');
  await engineStreamOk('POST', '/images/create', { fromImage: image.slice(0, colon), tag: image.slice(colon + 1) }, registryAuthHeader(registryCredentials(USER, PASS), reg.host));
}

class CountingBuilder implements Builder {
  builds = 0;
  constructor(private readonly inner: Builder) {}
  get name(): Builder['name'] { return this.inner.name; }
  exists(ref: string, signal: AbortSignal): Promise<boolean> { return this.inner.exists(ref, signal); }
  build(req: BuildRequest): Promise<string | void> { this.builds++; return this.inner.build(req); }
}

const signal = (): AbortSignal => new AbortController().signal;

describe('image builders', { timeout: 300_000 }, () => {
  before(async () => {
    const docker = await testDocker();
    engine = new DockerEngine({ host: docker.host });
    reg = await startRegistry({ auth: 'htpasswd', users: { [USER]: PASS } });
    work = mkdtempSync(join(tmpdir(), 'wharf-builders-'));
    storage = { root: join(work, 'buildah-root'), runroot: join(work, 'buildah-runroot') };
    // The base image lives in the authenticated registry, as builds here cannot pull from anywhere else.
    // Untagged locally, so the docker builder's FROM must pull it with the credentials it passes.
    base = await pushBaseImage(engine, docker, reg.host, USER, PASS);
  });

  after(async () => {
    if (engine) {
      const containers = await engine.request<{ Id: string }[]>('GET', '/containers/json', { query: { all: true, filters: { label: [LABEL] } } }).catch(() => []);
      for (const c of containers) await engine.request('DELETE', `/containers/${c.Id}`, { query: { force: true } }).catch(() => undefined);
      const refs = reg ? [`${reg.host}/*/*`, `${reg.alias}/*/*`, 'wharf-local-test/*'] : ['wharf-local-test/*'];
      for (const reference of refs) {
        const images = await engine.request<{ Id: string; RepoTags: string[] | null }[]>('GET', '/images/json', { query: { filters: { reference: [reference] } } }).catch(() => []);
        for (const img of images) {
          for (const tag of img.RepoTags ?? []) await engine.request('DELETE', `/images/${tag}`, { query: { force: true } }).catch(() => undefined);
        }
      }
      engine.close();
    }
    if (storage) spawnSync('buildah', ['--root', storage.root, '--runroot', storage.runroot, '--storage-driver', 'vfs', 'rmi', '--all', '--force'], { stdio: 'ignore' });
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  for (const kind of ['docker', 'buildah'] as const) {
    describe(`${kind} builder`, () => {
      it('builds and pushes under the push name, finds it under the pull name, skips it, rebuilds after a one-byte change', async (t) => {
        const builder = makeBuilder(kind, creds(PASS));
        const images = new ImageBuilds({ builder, refs: refsFor(`${kind}/app`) });
        const plan = context({ Dockerfile: `FROM ${base}\nRUN echo built > /built\nCOPY hello.txt /hello.txt\n`, 'hello.txt': 'hello 1\n' });
        const log: string[] = [];
        const first = await images.resolve(plan, (l) => log.push(l), signal());
        assert.equal(first.built, true, log.join('\n'));
        assert.equal(first.image, `${reg.host}/${kind}/app:${first.tag}`);
        assert.ok(log.some((l) => l.includes('[build] pushing')), log.join('\n'));
        assert.ok(!log.join('\n').includes(PASS));
        // Pushed through localhost:P, found through 127.0.0.1:P: one registry, two names.
        const client = new RegistryClient({ credentials: creds(PASS) });
        assert.equal((await client.manifestExists(first.image)).exists, true);
        if (kind === 'buildah') await pullIntoEngine(first.image);
        assert.equal(await catInImage(first.image, ['/built', '/hello.txt']), 'built\nhello 1\n');

        const skipLog: string[] = [];
        const started = performance.now();
        const again = await images.resolve(plan, (l) => skipLog.push(l), signal());
        const ms = performance.now() - started;
        t.diagnostic(`${kind}: resolve of an existing image took ${ms.toFixed(1)} ms`);
        assert.deepEqual(again, { ...first, built: false });
        assert.ok(skipLog.includes(`[build] image ${reg.alias}/${kind}/app:${first.tag} exists, build skipped`), skipLog.join('\n'));

        writeFileSync(join(plan.context, 'hello.txt'), 'hello 2\n');
        const third = await images.resolve(plan, () => undefined, signal());
        assert.equal(third.built, true);
        assert.notEqual(third.tag, first.tag);
        if (kind === 'buildah') await pullIntoEngine(third.image);
        assert.equal(await catInImage(third.image, ['/hello.txt']), 'hello 2\n');
      });

      it('builds once for two concurrent requests of the same context', async () => {
        const builder = new CountingBuilder(makeBuilder(kind, creds(PASS)));
        const images = new ImageBuilds({ builder, refs: refsFor(`${kind}/flight`) });
        const plan = context({ Dockerfile: `FROM ${base}\nCOPY f /f\n`, f: `single flight ${kind}\n` });
        const [a, b] = await Promise.all([images.resolve(plan, () => undefined, signal()), images.resolve(plan, () => undefined, signal())]);
        assert.equal(builder.builds, 1);
        assert.equal(a.image, b.image);
        assert.equal(a.built && b.built, true);
      });

      it('fails with wrong credentials, naming the registry and never the password', async () => {
        const builder = makeBuilder(kind, creds(WRONG));
        const plan = context({ Dockerfile: `FROM ${base}\nCOPY f /f\n`, f: `wrong credentials ${kind}\n` });
        const images = new ImageBuilds({ builder, refs: refsFor(`${kind}/denied`) });
        const check = (e: unknown, host: string): true => {
          assert.ok(e instanceof BuildError, String(e));
          assert.ok(e.message.includes(host), e.message);
          for (const secret of [WRONG, PASS, Buffer.from(`${USER}:${WRONG}`).toString('base64')]) assert.ok(!e.message.includes(secret), e.message);
          return true;
        };
        // The existence check is the first to meet the registry.
        await assert.rejects(images.resolve(plan, () => undefined, signal()), (e) => check(e, reg.alias));
        // The build itself (pull of the base for buildah, push for docker) refuses too.
        const { context: ctx, digest } = await tagBuild(plan);
        const log: string[] = [];
        const ref = `${reg.alias}/${kind}/denied:direct`;
        const req: BuildRequest = { build: plan, context: ctx, contextDigest: digest, pushRef: ref, pullRef: ref, log: (l) => log.push(l), signal: signal() };
        await assert.rejects(builder.build(req), (e) => check(e, reg.alias));
        assert.ok(!log.join('\n').includes(WRONG));
      });

      it('fails a build whose RUN fails, quoting the command\'s error', async () => {
        const images = new ImageBuilds({ builder: makeBuilder(kind, creds(PASS)), refs: refsFor(`${kind}/failing`) });
        const plan = context({ Dockerfile: `FROM ${base}\nRUN echo "frobnicator is missing" >&2; exit 7\n` });
        await assert.rejects(images.resolve(plan, () => undefined, signal()), (e: unknown) => {
          assert.ok(e instanceof BuildError, String(e));
          assert.match(e.message, /frobnicator is missing/);
          assert.match(e.message, kind === 'docker' ? /returned a non-zero code: 7/ : /exit status 7/);
          return true;
        });
      });

      it('stops the build when aborted', async () => {
        const images = new ImageBuilds({ builder: makeBuilder(kind, creds(PASS)), refs: refsFor(`${kind}/aborted`) });
        const plan = context({ Dockerfile: `FROM ${base}\nRUN echo started-marker && sleep 37\n` });
        const ac = new AbortController();
        const run = images.resolve(plan, (l) => { if (l.trim() === 'started-marker') ac.abort(new Error('task canceled')); }, ac.signal);
        await assert.rejects(run, /task canceled/);
        // The abort returns only once the builder has stopped: nothing of the build may be left running.
        const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(storage.root) || /\bsleep 37\b/.test(l));
        assert.deepEqual(left, []);
      });
    });
  }

  it('docker builder discards an image whose context changed between tagging and sending', async () => {
    const builder = new DockerBuilder({ engine });
    const plan = context({ Dockerfile: `FROM ${base}\nCOPY f /f\n`, f: 'before\n' });
    const { context: ctx, digest, tag } = await tagBuild(plan);
    writeFileSync(join(plan.context, 'f'), 'after!\n'); // same size, other bytes
    const ref = `wharf-local-test/changed:${tag}`;
    const req: BuildRequest = { build: plan, context: ctx, contextDigest: digest, pushRef: ref, pullRef: ref, log: () => undefined, signal: signal() };
    await assert.rejects(builder.build(req), (e: unknown) => e instanceof BuildError && /changed while .* was being built/.test(e.message));
    assert.equal(await builder.exists(ref, signal()), false);

    writeFileSync(join(plan.context, 'f'), 'x'); // shorter than when listed: the tar cannot be written
    await assert.rejects(builder.build(req), (e: unknown) => e instanceof BuildContextError && /f shrank while it was being read/.test(e.message));
  });

  it('buildah gets credentials only through a 0600 authfile, never in its argv, removed afterwards', async () => {
    const record = join(work, 'buildah-argv.log');
    const wrapper = join(work, 'buildah-wrapper.sh');
    writeFileSync(wrapper, [
      '#!/bin/sh',
      'prev=""',
      `for a in "$@"; do [ "$prev" = "--authfile" ] && stat -c 'authfile %n %a' "$a" >> '${record}'; prev="$a"; done`,
      `printf 'argv %s\\n' "$*" >> '${record}'`,
      'exec buildah "$@"',
      '',
    ].join('\n'), { mode: 0o755 });
    const credentials = creds(PASS);
    const builder = new BuildahBuilder({ ...storage, bin: wrapper, registry: { client: new RegistryClient({ credentials }), credentials } });
    const images = new ImageBuilds({ builder, refs: refsFor('buildah/argv') });
    const plan = context({ Dockerfile: `FROM ${base}\nCOPY f /f\n`, f: 'argv\n' });
    assert.equal((await images.resolve(plan, () => undefined, signal())).built, true);
    const lines = readFileSync(record, 'utf8').trim().split('\n');
    const authfiles = lines.filter((l) => l.startsWith('authfile '));
    assert.ok(authfiles.length >= 2, lines.join('\n')); // bud and push
    for (const l of authfiles) {
      const [, path, mode] = l.split(' ');
      assert.equal(mode, '600');
      assert.equal(existsSync(path!), false, `${path} was left behind`);
    }
    const argv = lines.filter((l) => l.startsWith('argv ')).join('\n');
    assert.ok(!argv.includes(PASS) && !argv.includes('--creds'), argv);
    assert.ok(argv.includes('--tls-verify=false'), 'the loopback registry is spoken to over http');
  });

  it('docker builder without a registry keeps the image in the engine and finds it there', async () => {
    const builder = new DockerBuilder({ engine });
    const images = new ImageBuilds({ builder, refs: (tag) => ({ push: `wharf-local-test/app:${tag}`, pull: `wharf-local-test/app:${tag}` }) });
    const plan = context({ Dockerfile: `FROM ${base}\nCOPY f /f\n`, f: 'local only\n' });
    const first = await images.resolve(plan, () => undefined, signal());
    assert.equal(first.built, true);
    assert.equal(await catInImage(first.image, ['/f']), 'local only\n');
    assert.equal((await images.resolve(plan, () => undefined, signal())).built, false);
  });
});
