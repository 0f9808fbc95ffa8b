// A Node runtime image made offline (nothing can be pulled here): this machine's node binary, the
// shared libraries it and better-sqlite3's addon link against, the dynamic loader, a minimal
// /etc/passwd and /etc/group and /tmp. No shell, no package manager: the smallest honest stand-in
// for "node on a minimal root filesystem" (the BASE of deploy/Dockerfile).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { pack } from 'tar-stream';
import { DockerEngine } from '../../src/docker/engine.js';
import { EngineError } from '../../src/docker/errors.js';
import { jsonLines } from '../../src/docker/streams.js';
import type { TestDocker } from './docker.js';

const REPO = 'wharf-test/node-base';
/** Bump when the layout below changes, so a stale image under the same inputs is not reused. */
const LAYOUT = '1';
const NODE_PATH = 'usr/local/bin/node';
const ENV_PATH = 'PATH=/usr/local/bin:/usr/bin:/bin';
const PASSWD = 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n';
const GROUP = 'root:x:0:\nnogroup:x:65534:\n';
const ADDON = new URL('../../../node_modules/better-sqlite3/build/Release/better_sqlite3.node', import.meta.url).pathname;

export class NodeBaseError extends Error {
  override readonly name = 'NodeBaseError';
}

/** The image reference (`wharf-test/node-base:<hash of its inputs>`); imported only when missing. */
export async function nodeBaseImage(docker: TestDocker): Promise<string> {
  const libs = sharedLibraries([process.execPath, ADDON]);
  const hash = createHash('sha256').update(`${LAYOUT}\n${ENV_PATH}\n${PASSWD}${GROUP}`);
  const node = realpathSync(process.execPath);
  for (const [name, file] of [[NODE_PATH, node] as const, ...libs]) hash.update(`${name}\0`).update(readFileSync(file));
  const ref = `${REPO}:${hash.digest('hex').slice(0, 16)}`;

  const engine = new DockerEngine({ host: docker.host, timeoutMs: 120_000 });
  try {
    if (await exists(engine, ref)) return ref;
    const res = await engine.stream('POST', '/images/create', {
      query: { fromSrc: '-', repo: REPO, tag: ref.slice(REPO.length + 1), changes: `ENV ${ENV_PATH}` },
      headers: { 'content-type': 'application/x-tar' },
      body: rootfs(node, libs),
    });
    for await (const _ of jsonLines(res)) { /* drain: a failure inside the 200 throws */ }
    if (!(await exists(engine, ref))) throw new NodeBaseError(`the engine accepted the import of ${ref} but does not list it`);
    return ref;
  } finally {
    engine.close();
  }
}

async function exists(engine: DockerEngine, ref: string): Promise<boolean> {
  try {
    await engine.request('GET', `/images/${ref}/json`);
    return true;
  } catch (e) {
    if (e instanceof EngineError && e.status === 404) return false;
    throw e;
  }
}

/**
 * What `ldd` lists for each file, as [path in the image, file on this machine]: the path the
 * loader resolves (e.g. lib/x86_64-linux-gnu/libc.so.6, lib64/ld-linux-x86-64.so.2), stored as a
 * regular file with the content of its target, so no merged-/usr symlinks are needed.
 */
function sharedLibraries(files: string[]): [string, string][] {
  const found = new Map<string, string>();
  for (const file of files) {
    statSync(file); // a missing input fails here by name, not as an ldd message
    const out = execFileSync('ldd', [file], { encoding: 'utf8' });
    for (const line of out.split('\n')) {
      const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
      if (!m?.[1]) {
        if (line.includes('not found')) throw new NodeBaseError(`ldd ${file}: a library is missing on this machine: ${line.trim()}`);
        continue;
      }
      found.set(m[1].slice(1), realpathSync(m[1]));
    }
  }
  if (![...found.keys()].some((p) => /ld-linux/.test(p))) throw new NodeBaseError(`ldd listed no dynamic loader for ${files.join(', ')}`);
  return [...found.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/** The root filesystem as a tar stream, held in memory until sent (~110 MB, once per machine). */
function rootfs(node: string, libs: [string, string][]): AsyncIterable<Buffer> {
  const tar = pack();
  const dirs = new Set<string>();
  const dir = (name: string, mode = 0o755): void => {
    if (name === '.' || dirs.has(name)) return;
    dir(posix.dirname(name));
    dirs.add(name);
    tar.entry({ name, type: 'directory', mode });
  };
  const file = (name: string, content: Buffer | string, mode: number): void => {
    dir(posix.dirname(name));
    tar.entry({ name, mode }, content);
  };
  for (const d of ['etc', 'proc', 'sys', 'dev', 'root']) dir(d);
  dir('tmp', 0o1777);
  file('etc/passwd', PASSWD, 0o644);
  file('etc/group', GROUP, 0o644);
  file(NODE_PATH, readFileSync(node), 0o755);
  for (const [name, source] of libs) file(name, readFileSync(source), 0o755);
  tar.finalize();
  return tar as unknown as AsyncIterable<Buffer>;
}
