// A task's secret files, put into its container before it starts through the archive API, as
// inputs are: mode 0400, owned by the task's user. The tar is made in memory (values are small),
// so a value never touches the worker's disk; in the container it lives in the volume made for
// its directory (or the writable rootfs), which goes with the container.
import { posix } from 'node:path';
import { pack } from 'tar-stream';
import type { DockerEngine } from '../../docker/engine.js';
import { EngineError } from '../../docker/errors.js';
import type { RunSecrets } from '../types.js';
import { CopyError } from './archive.js';
import type { Owner } from './user.js';

/** The directory a secret file goes in: where its volume is needed. */
export function secretDir(path: string): string {
  return posix.dirname(posix.normalize(path));
}

/**
 * Writes `files` into container `id`. Each goes through the shallowest of `volumes` that holds
 * it, else / (a writable rootfs). One PUT per such base; the engine makes missing parents.
 */
export async function putSecretFiles(
  engine: DockerEngine, id: string, files: RunSecrets['files'], volumes: readonly string[], owner: Owner,
): Promise<void> {
  const byBase = new Map<string, { name: string; value: string; path: string }[]>();
  for (const f of files) {
    const path = posix.normalize(f.path);
    const base = volumes.find((v) => path.startsWith(`${v === '/' ? '' : v}/`)) ?? '/';
    const list = byBase.get(base) ?? [];
    list.push({ name: posix.relative(base, path), value: f.value, path });
    byBase.set(base, list);
  }
  for (const [base, entries] of byBase) {
    const tar = pack();
    tar.on('error', () => undefined); // streamx: the PUT below reports what went wrong
    for (const e of entries) {
      tar.entry({ name: e.name, type: 'file', mode: 0o400, uid: owner.uid, gid: owner.gid, mtime: new Date() }, Buffer.from(e.value, 'utf8'));
    }
    tar.finalize();
    try {
      await engine.request('PUT', `/containers/${encodeURIComponent(id)}/archive`, {
        query: { path: base },
        body: tar,
        headers: { 'content-type': 'application/x-tar' },
      });
    } catch (err) {
      // The engine's message names paths, never the tar's content.
      if (err instanceof EngineError && err.status >= 400) {
        throw new CopyError(`secret files ${entries.map((e) => e.path).join(', ')}: ${err.message}`);
      }
      throw err;
    }
  }
}
