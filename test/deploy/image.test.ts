// Wharf's own image (deploy/Dockerfile), built offline on the test engine from a node-only base:
// its configuration, what its filesystem holds (and does not), and `serve` in it read-only, as a
// non-root user, reported healthy by the engine through the image's own HEALTHCHECK.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { DockerEngine } from '../../src/docker/engine.js';
import { testDocker } from '../infra/docker.js';
import { nodeBaseImage } from '../infra/node-base.js';
import { bareImports, buildImage, containerOutput, freePort, imageFiles, procIds, reachable, removeBuild, startHealthy, type Build, type ImageFiles } from './image-helpers.js';

const UID = 10001;
const HOME = '/var/lib/wharf';
/** What the image adds on top of its base may not grow past this (today: the bundle and better-sqlite3, ~11 MB). */
const MAX_APP_BYTES = 20 * 1024 * 1024;
/** Programs an attacker in the container could use, or that Wharf must never need. */
const FORBIDDEN = new Set(['sh', 'bash', 'dash', 'ash', 'busybox', 'docker', 'kubectl', 'curl', 'wget', 'npm', 'npx', 'apt', 'apt-get', 'dpkg']);

/** Files the engine puts into every container (so into `docker export`), not the image's. */
const ENGINE_MADE = new Set(['.dockerenv', 'dev/console', 'etc/hostname', 'etc/hosts', 'etc/resolv.conf']);

interface ImageInspect {
  Size: number;
  Config: {
    User: string; Env: string[]; WorkingDir: string; ExposedPorts?: Record<string, object>;
    Entrypoint: string[]; Cmd: string[]; Healthcheck?: { Test: string[] };
  };
}

describe("deploy/Dockerfile: Wharf's image", { timeout: 120_000 }, () => {
  const tag = `wharf-test/wharf:${randomBytes(4).toString('hex')}`;
  let engine: DockerEngine;
  let base: string;
  let build: Build | undefined;
  let files: ImageFiles;
  const containers: string[] = [];
  const volumes: string[] = [];

  before(async () => {
    const docker = await testDocker();
    engine = new DockerEngine({ host: docker.host });
    base = await nodeBaseImage(docker);
    try {
      build = await buildImage(docker, base, tag, 90_000);
    } catch (e) {
      build = { ms: 0, ids: (e as { ids?: string[] }).ids ?? [] };
      throw e;
    }
    files = await imageFiles(engine, tag, (p) => p === 'etc/passwd' || /^app\/dist\/bin\/[^/]+\.js$/.test(p));
  });

  after(async () => {
    if (!engine) return;
    for (const id of containers) await engine.request('DELETE', `/containers/${id}`, { query: { force: true, v: true } }).catch(() => undefined);
    for (const v of volumes) await engine.request('DELETE', `/volumes/${v}`).catch(() => undefined);
    if (build) await removeBuild(engine, tag, build.ids, base);
    engine.close();
  });

  it('runs as a numeric non-root user, with WHARF_HOME, port 5255, an exec-form health check and `serve`', async (t) => {
    const [image, baseImage] = await Promise.all([
      engine.request<ImageInspect>('GET', `/images/${tag}/json`),
      engine.request<ImageInspect>('GET', `/images/${base}/json`),
    ]);
    const c = image.Config;
    assert.equal(c.User, `${UID}:${UID}`);
    assert.ok(c.Env.includes(`WHARF_HOME=${HOME}`), c.Env.join(' '));
    assert.equal(c.WorkingDir, HOME);
    assert.deepEqual(Object.keys(c.ExposedPorts ?? {}), ['5255/tcp']);
    assert.deepEqual(c.Entrypoint, ['node', '/app/dist/bin/main.js']);
    assert.deepEqual(c.Cmd, ['serve']);
    // CMD, not CMD-SHELL: the image has no shell to run a health check with.
    assert.deepEqual(c.Healthcheck?.Test.slice(0, 3), ['CMD', 'node', '-e']);
    const appBytes = image.Size - baseImage.Size;
    assert.ok(appBytes < MAX_APP_BYTES, `the image adds ${appBytes} bytes to its base`);
    t.diagnostic(`image ${(image.Size / 1e6).toFixed(1)} MB (base ${(baseImage.Size / 1e6).toFixed(1)} MB + Wharf ${(appBytes / 1e6).toFixed(1)} MB); built in ${((build?.ms ?? 0) / 1000).toFixed(1)} s`);
  });

  it('holds node and the app only: no shell or tools, no dev dependencies, no source maps', () => {
    const names = [...files.entries.keys()];
    const forbidden = names.filter((p) => FORBIDDEN.has(p.split('/').pop() ?? ''));
    assert.deepEqual(forbidden, []);
    const programs = names.filter((p) => {
      const e = files.entries.get(p);
      return e?.type === 'file' && (e.mode & 0o111) !== 0 && !/\.so(\.\d+)*$/.test(p) && !p.startsWith('app/') && !ENGINE_MADE.has(p);
    });
    assert.deepEqual(programs, ['usr/local/bin/node']);
    const packages = names.filter((p) => /^app\/node_modules\/[^/]+$/.test(p)).map((p) => p.split('/')[2]).sort();
    assert.deepEqual(packages, ['better-sqlite3', 'bindings', 'file-uri-to-path']);
    assert.ok(files.entries.has('app/node_modules/better-sqlite3/build/Release/better_sqlite3.node'));
    assert.deepEqual(names.filter((p) => p.startsWith('app/') && /\.(map|ts|c|cpp|h)$/.test(p)), []);
    assert.deepEqual(names.filter((p) => p.startsWith('app/dist/') && !p.startsWith('app/dist/bin')), []);
  });

  it('ships exactly the bundle chunks main.js reaches (none missing, none left over from older builds)', () => {
    const dir = 'app/dist/bin';
    const shipped = new Set([...files.texts.keys()].filter((p) => p.startsWith(`${dir}/`)).map((p) => p.slice(dir.length + 1)));
    const wanted = reachable('main.js', files.texts, dir);
    assert.ok(wanted.size > 1, 'main.js imports its chunks');
    assert.deepEqual([...wanted].filter((f) => !shipped.has(f)), [], 'missing from the image');
    assert.deepEqual([...shipped].filter((f) => !wanted.has(f)), [], 'unreachable from main.js');
  });

  it('ships every package the bundle imports that is not built into node', () => {
    const packages = new Set<string>();
    for (const [path, js] of files.texts) if (path.startsWith('app/dist/bin/')) for (const name of bareImports(js)) packages.add(name);
    assert.ok(packages.has('better-sqlite3'), [...packages].join(', '));
    const builtin = new Set(builtinModules);
    const missing = [...packages].filter((name) => !name.startsWith('node:') && !builtin.has(name) && !files.entries.has(`app/node_modules/${name}/package.json`));
    assert.deepEqual(missing, []);
  });

  it(`has the wharf user (${UID}) in /etc/passwd and ${HOME} owned by it`, () => {
    assert.match(files.texts.get('etc/passwd') ?? '', new RegExp(`^wharf:x:${UID}:${UID}:[^:]*:${HOME}:`, 'm'));
    assert.deepEqual(pick(files.entries.get(HOME.slice(1))), { type: 'directory', uid: UID, gid: UID });
  });

  it('serves read-only as that user: /health and /ready answer, the engine reports it healthy, docker stop ends it with 0', async (t) => {
    const port = await freePort();
    const volume = `wharf-test-home-${randomBytes(4).toString('hex')}`;
    await engine.request('POST', '/volumes/create', { body: { Name: volume } });
    volumes.push(volume);
    const { Id } = await engine.request<{ Id: string }>('POST', '/containers/create', {
      body: {
        Image: tag,
        Cmd: ['serve', '--host', '127.0.0.1', '--port', String(port)],
        Env: [`WHARF_HEALTH_URL=http://127.0.0.1:${port}/health`],
        // Only the interval is overridden (ns); the check itself is the image's.
        Healthcheck: { Interval: 1_000_000_000 },
        HostConfig: {
          NetworkMode: 'host', ReadonlyRootfs: true, Tmpfs: { '/tmp': 'rw,nosuid,nodev' },
          // A new named volume takes the image directory's owner: the non-root user can write it.
          Mounts: [{ Type: 'volume', Source: volume, Target: HOME }],
        },
      },
    });
    containers.push(Id);
    const started = performance.now();
    await startHealthy(engine, Id, 20_000);
    t.diagnostic(`healthy ${Math.round(performance.now() - started)} ms after start`);

    for (const path of ['/health', '/ready']) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      assert.equal(res.status, 200, path);
      assert.deepEqual(await res.json(), { status: 'ok' });
    }
    const state = (await engine.request<{ State: { Pid: number; Health: { Status: string } } }>('GET', `/containers/${Id}/json`)).State;
    assert.equal(state.Health.Status, 'healthy');
    const status = readFileSync(`/proc/${state.Pid}/status`, 'utf8');
    assert.deepEqual(procIds(status, 'Uid'), Array(4).fill(String(UID)));
    assert.deepEqual(procIds(status, 'Gid'), Array(4).fill(String(UID)));

    // node is PID 1: only Wharf's own SIGTERM handler stops it, by draining; no kill after the grace.
    await engine.request('POST', `/containers/${Id}/stop`, { query: { t: 20 }, timeoutMs: 30_000 });
    const end = (await engine.request<{ State: { ExitCode: number } }>('GET', `/containers/${Id}/json`)).State;
    assert.equal(end.ExitCode, 0, await containerOutput(engine, Id));
  });
});

function pick(e: { type: string; uid: number; gid: number } | undefined): object | undefined {
  return e && { type: e.type, uid: e.uid, gid: e.gid };
}
