// Inputs and outputs through the engine's archive API, as tar streams: host files are read from
// disk as the engine takes them (never a whole tree in memory), and a container's tar is
// written to the host entry by entry, refusing anything that would land outside its directory.
import { formatError } from '../../core/format-error.js';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { chmod, link, lstat, mkdir, readdir, readlink, symlink, unlink, utimes } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extract, pack, type Pack } from 'tar-stream';
import type { DockerEngine } from '../../docker/engine.js';
import type { CopySpec } from '../../spec/plan.js';
import type { Owner } from './user.js';

export class CopyError extends Error {
  override readonly name = 'CopyError';
}

/**
 * Puts the host path `spec.from` into the container directory `spec.to`, under its own name (a
 * directory /h/data with to=/in gives /in/data/…). `base` is where the PUT goes: the volume that
 * holds `to`, or / on a writable rootfs; missing directories up to `to` are made by the engine.
 * Files are owned by `owner` (the container's user), so a non-root task can use them.
 */
export async function copyIn(engine: DockerEngine, id: string, spec: CopySpec, base: string, owner: Owner): Promise<void> {
  const name = basename(spec.from);
  if (name === '' || name === '..') throw new CopyError(`input ${spec.from}: expected a file or directory path`);
  const prefix = posix.relative(base, posix.normalize(spec.to));
  const tar = pack();
  // streamx emits 'error' even with no listener (an uncaught exception); it reaches us as walkError.
  tar.on('error', () => undefined);
  let walkError: unknown;
  const walking = addTree(tar, spec.from, prefix === '' ? name : `${prefix}/${name}`, owner)
    .then(() => tar.finalize())
    .catch((e: unknown) => {
      walkError = e;
      tar.destroy(e instanceof Error ? e : new Error(String(e)));
    });
  try {
    await engine.request('PUT', `/containers/${encodeURIComponent(id)}/archive`, {
      query: { path: base },
      body: tar,
      headers: { 'content-type': 'application/x-tar' },
    });
  } catch (e) {
    await walking;
    const cause = walkError ?? e;
    throw new CopyError(`input ${spec.from} → ${spec.to}: ${(cause as Error).message}`);
  }
  await walking;
  if (walkError) throw new CopyError(`input ${spec.from} → ${spec.to}: ${(walkError as Error).message}`);
}

async function addTree(tar: Pack, path: string, name: string, owner: Owner): Promise<void> {
  const st = await lstat(path);
  const common = { name, mode: st.mode & 0o7777, mtime: st.mtime, uid: owner.uid, gid: owner.gid };
  if (st.isDirectory()) {
    await entry(tar, { ...common, type: 'directory' });
    for (const child of (await readdir(path)).sort()) await addTree(tar, join(path, child), `${name}/${child}`, owner);
  } else if (st.isSymbolicLink()) {
    await entry(tar, { ...common, type: 'symlink', linkname: await readlink(path) });
  } else if (st.isFile()) {
    const w = tar.entry({ ...common, type: 'file', size: st.size });
    const done = new Promise<void>((resolve, reject) => {
      w.once('finish', () => resolve());
      w.once('close', () => resolve());
      w.once('error', reject);
    });
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      if (!w.write(chunk)) await once(w, 'drain');
    }
    w.end(undefined);
    await done;
  } else {
    throw new Error(`${path} is neither a file, a directory nor a symlink`);
  }
}

function entry(tar: Pack, header: Parameters<Pack['entry']>[0]): Promise<void> {
  return new Promise((resolve, reject) => tar.entry(header, (err) => (err ? reject(err) : resolve())));
}

/**
 * Copies the container path `spec.from` into the host directory `spec.to` (made if missing),
 * under its own name, as GET /containers/{id}/archive gives it. Entries with absolute names or
 * "..", and writes through a symlink, are refused: nothing lands outside `to`.
 */
export async function copyOut(engine: DockerEngine, id: string, spec: CopySpec): Promise<void> {
  const from = posix.normalize(spec.from).replace(/(.)\/+$/, '$1');
  let res: IncomingMessage | undefined;
  try {
    await mkdir(spec.to, { recursive: true });
    res = await engine.stream('GET', `/containers/${encodeURIComponent(id)}/archive`, { query: { path: from } });
    const ex = extract();
    ex.on('error', () => undefined); // streamx: see copyIn; the failure comes through the loop below
    // tar-stream's streams are streamx, not node's: fed by hand, with backpressure.
    const feeding = (async () => {
      for await (const chunk of res ?? []) if (!ex.write(chunk as Buffer)) await once(ex, 'drain');
      ex.end(undefined);
    })().catch((e: unknown) => {
      ex.destroy(e instanceof Error ? e : new Error(String(e)));
    });
    const dirModes: [string, number][] = [];
    for await (const e of ex) {
      const h = e.header;
      const target = await safeTarget(spec.to, h.name);
      if (h.type === 'directory') {
        await ensureDir(target);
        dirModes.push([target, (h.mode ?? 0o755) & 0o777]);
        e.resume();
      } else if (h.type === 'file' || h.type === 'contiguous-file') {
        await removeIfLink(target);
        await pipeline(e as AsyncIterable<Buffer>, createWriteStream(target, { mode: (h.mode ?? 0o644) & 0o777 }));
        await chmod(target, (h.mode ?? 0o644) & 0o777);
        if (h.mtime) await utimes(target, h.mtime, h.mtime);
      } else if (h.type === 'symlink') {
        await unlink(target).catch(ignoreMissing);
        await symlink(h.linkname ?? '', target);
        e.resume();
      } else if (h.type === 'link') {
        const source = await safeTarget(spec.to, h.linkname ?? '');
        if ((await lstat(source)).isSymbolicLink()) throw new Error(`${h.name}: a hard link to a symlink is refused`);
        await unlink(target).catch(ignoreMissing);
        await link(source, target);
        e.resume();
      } else {
        e.resume(); // devices, fifos: nothing a task's output should need
      }
    }
    await feeding;
    for (const [dir, mode] of dirModes.reverse()) await chmod(dir, mode);
  } catch (e) {
    throw new CopyError(`output ${spec.from} → ${spec.to}: ${formatError(e)}`);
  } finally {
    res?.destroy(); // a refused entry stops the copy: the rest of the archive is not wanted
  }
}

/** The host path for an entry name, its parent directories made, none of them a symlink. */
async function safeTarget(root: string, entryName: string): Promise<string> {
  const name = posix.normalize(entryName).replace(/\/+$/, '');
  const parts = name.split('/');
  if (name.startsWith('/') || parts.includes('..') || name === '.' || name === '') {
    throw new Error(`the archive holds ${JSON.stringify(entryName)}, a path outside the output directory`);
  }
  let dir = root;
  for (const p of parts.slice(0, -1)) {
    dir = join(dir, p);
    await ensureDir(dir);
  }
  return join(dir, parts[parts.length - 1] ?? '');
}

async function ensureDir(path: string): Promise<void> {
  const st = await lstat(path).catch(ignoreMissing);
  if (!st) return void (await mkdir(path, { mode: 0o755 }));
  if (st.isSymbolicLink()) throw new Error(`${path} is a symlink; writing through it is refused`);
  if (!st.isDirectory()) throw new Error(`${path} exists and is not a directory`);
}

async function removeIfLink(path: string): Promise<void> {
  const st = await lstat(path).catch(ignoreMissing);
  if (st?.isSymbolicLink()) await unlink(path);
  else if (st?.isDirectory()) throw new Error(`${path} is a directory, the archive has a file there`);
}

function ignoreMissing(e: NodeJS.ErrnoException): undefined {
  if (e.code === 'ENOENT') return undefined;
  throw e;
}
