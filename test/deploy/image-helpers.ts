// Builds deploy/Dockerfile on the test engine with the docker CLI (as a user would), reads an
// image's filesystem through the Engine API, awaits a container's health events, and removes
// what a build left behind, including the untagged image of its build stage.
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { extract } from 'tar-stream';
import type { DockerEngine } from '../../src/docker/engine.js';
import { EngineError } from '../../src/docker/errors.js';
import { demux, jsonLines } from '../../src/docker/streams.js';
import type { TestDocker } from '../infra/docker.js';

export const REPO_ROOT = new URL('../../../', import.meta.url).pathname;

export interface Build {
  ms: number;
  /** Every image id the legacy builder printed (" ---> <id>"), both stages. */
  ids: string[];
}

/** `docker build --network none` from the repo root; fails with the tail of the builder's output. */
export function buildImage(docker: TestDocker, base: string, tag: string, timeoutMs: number): Promise<Build> {
  const args = ['build', '--network', 'none', '--force-rm', '-f', 'deploy/Dockerfile', '--build-arg', `BASE=${base}`, '-t', tag, '.'];
  // dockerd 20.10's own builder: BuildKit would need the buildx plugin, which is not installed.
  const env = { ...process.env, DOCKER_HOST: docker.host, DOCKER_BUILDKIT: '0' };
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile('docker', args, { cwd: REPO_ROOT, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const ids = [...stdout.matchAll(/^ ---> ([0-9a-f]{12})$/gm)].map((m) => m[1] ?? '');
      if (err) {
        const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-25).join('\n');
        reject(Object.assign(new Error(`docker ${args.join(' ')} failed (${err.message.split('\n')[0]}):\n${tail}`), { ids }));
        return;
      }
      resolve({ ms: performance.now() - started, ids });
    });
  });
}

/** Removes the tagged image, then what is left of the build's untagged images (never `keep`). */
export async function removeBuild(engine: DockerEngine, tag: string, ids: string[], keep: string): Promise<void> {
  const keepId = (await engine.request<{ Id: string }>('GET', `/images/${keep}/json`)).Id.replace(/^sha256:/, '');
  for (const ref of [tag, ...ids.filter((id) => !keepId.startsWith(id)).reverse()]) {
    await engine.request('DELETE', `/images/${ref}`).catch((e: unknown) => {
      // Already gone with a removed child (404), or still the parent of a kept image (409).
      if (!(e instanceof EngineError && (e.status === 404 || e.status === 409))) throw e;
    });
  }
}

export interface ImageFile {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
}

export interface ImageFiles {
  /** By path without a leading slash; directories without a trailing one. */
  entries: Map<string, ImageFile>;
  /** The text of the files `keepText` selected. */
  texts: Map<string, string>;
}

/** An image's filesystem as `docker export` of a created (never started) container gives it. */
export async function imageFiles(engine: DockerEngine, image: string, keepText: (path: string) => boolean): Promise<ImageFiles> {
  const { Id } = await engine.request<{ Id: string }>('POST', '/containers/create', { body: { Image: image, Labels: { 'wharf-test': 'image-files' } } });
  try {
    const res = await engine.stream('GET', `/containers/${Id}/export`);
    const entries = new Map<string, ImageFile>();
    const texts = new Map<string, string>();
    const tar = extract();
    res.pipe(tar);
    for await (const entry of tar) {
      const h = entry.header;
      const path = h.name.replace(/^\.?\//, '').replace(/\/$/, '');
      entries.set(path, { type: h.type ?? 'file', mode: h.mode ?? 0, uid: h.uid ?? -1, gid: h.gid ?? -1, size: h.size ?? 0 });
      const chunks: Buffer[] = [];
      const keep = keepText(path);
      for await (const c of entry) if (keep) chunks.push(c as Buffer);
      if (keep) texts.set(path, Buffer.concat(chunks).toString('utf8'));
    }
    return { entries, texts };
  } finally {
    await engine.request('DELETE', `/containers/${Id}`, { query: { force: true } });
  }
}

/** The relative imports of an esbuild ESM chunk: `from "./x.js"`, `import "./x.js"`, `import("./x.js")`. */
export function relativeImports(js: string): string[] {
  return [...js.matchAll(/\b(?:from|import)\s*\(?\s*"(\.\/[^"]+)"/g)].map((m) => m[1] ?? '');
}

/** The packages an esbuild ESM chunk imports at its top (what it left external), e.g. "better-sqlite3", "node:fs". */
export function bareImports(js: string): string[] {
  return [...js.matchAll(/^import\s(?:[^;]*?\sfrom\s*)?"([^".][^"]*)";$/gm)].map((m) => m[1] ?? '');
}

/** The files reachable from `entry` through relative imports (names within one directory). */
export function reachable(entry: string, texts: Map<string, string>, dir: string): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const spec of relativeImports(texts.get(`${dir}/${name}`) ?? '')) visit(spec.slice(2));
  };
  visit(entry);
  return seen;
}

/** A loopback port free at the time of asking. */
export async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const addr = srv.address();
  srv.close();
  if (addr === null || typeof addr === 'string') throw new Error('no port from listen(0)');
  return addr.port;
}

interface ContainerEvent {
  Action: string;
  Actor?: { Attributes?: Record<string, string> };
}

/**
 * Starts a created container and waits for the engine's `health_status: healthy` event (not a
 * poll); fails on `unhealthy`, on the container's death, or after `timeoutMs`, with its health
 * log and output.
 */
export async function startHealthy(engine: DockerEngine, id: string, timeoutMs: number): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs);
  const short = id.slice(0, 12);
  let problem: string;
  try {
    // Subscribed before the start, so no event can come before the listener.
    const res = await engine.stream('GET', '/events', { query: { filters: { container: [id], event: ['health_status', 'die'] } }, signal });
    try {
      await engine.request('POST', `/containers/${id}/start`);
      problem = `the engine ended the event stream of ${short}`;
      for await (const e of jsonLines<ContainerEvent>(res)) {
        if (e.Action === 'health_status: healthy') return;
        if (e.Action === 'health_status: unhealthy') { problem = `container ${short} became unhealthy`; break; }
        if (e.Action === 'die') { problem = `container ${short} exited with ${e.Actor?.Attributes?.exitCode ?? '?'} before it was healthy`; break; }
      }
    } finally {
      res.destroy();
    }
  } catch (e) {
    if (!signal.aborted) throw e;
    problem = `container ${short} was not healthy within ${timeoutMs} ms`;
  }
  const health = (await engine.request<{ State: { Health?: { Log?: { ExitCode: number; Output: string }[] } } }>('GET', `/containers/${id}/json`)).State.Health;
  const checks = (health?.Log ?? []).map((l) => `exit ${l.ExitCode} ${l.Output.trim()}`).join('; ') || 'none';
  throw new Error(`${problem}; health checks: ${checks}\ncontainer output:\n${await containerOutput(engine, id)}`);
}

/** A container's stdout and stderr so far, for failure messages. */
export async function containerOutput(engine: DockerEngine, id: string): Promise<string> {
  const res = await engine.stream('GET', `/containers/${id}/logs`, { query: { stdout: true, stderr: true } });
  let text = '';
  for await (const f of demux(res)) text += f.data.toString('utf8');
  return text;
}

/** The four ids (real, effective, saved, filesystem) of a `Uid:` or `Gid:` line of /proc/<pid>/status. */
export function procIds(status: string, field: 'Uid' | 'Gid'): string[] {
  const line = status.split('\n').find((l) => l.startsWith(`${field}:`));
  return line ? line.slice(field.length + 1).trim().split(/\s+/) : [];
}
