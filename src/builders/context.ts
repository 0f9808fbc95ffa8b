// A build context as Docker sends it: the context directory less what .dockerignore excludes
// (Docker's exact semantics), the Dockerfile and .dockerignore always included. It becomes a
// deterministic tar stream (sorted, mtime/uid/gid normalized, files read in chunks from disk) whose
// sha256 is the context digest: equal content, modes and symlinks give an equal digest.
import dockerignore from '@balena/dockerignore';
import { createHash } from 'node:crypto';
import type { Dirent, Stats } from 'node:fs';
import { lstat, open, readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, posix, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pack, type Header, type Pack } from 'tar-stream';
import type { BuildPlan } from '../spec/plan.js';
import { abortReason, BuildContextError } from './errors.js';

export interface ContextEntry {
  /** Relative to the context, forward slashes, no leading "./". */
  path: string;
  abs: string;
  type: 'file' | 'directory' | 'symlink';
  /** Permission bits (and setuid/setgid/sticky). */
  mode: number;
  size: number;
  linkname?: string;
}

export interface BuildContext {
  /** Real absolute path of the context directory. */
  dir: string;
  /** The Dockerfile's path inside the context (forward slashes), as the builder is told it. */
  dockerfile: string;
  /** What is sent, in the order it is sent. */
  entries: readonly ContextEntry[];
  /** Bytes of the regular files sent. */
  bytes: number;
}

type TarHeader = Partial<Header> & Pick<Header, 'name'>;

const CHUNK = 64 * 1024;
const EPOCH = new Date(0);

/** Checks the build section against the disk and lists what Docker would send. */
export async function loadContext(build: Pick<BuildPlan, 'context' | 'dockerfile'>, signal?: AbortSignal): Promise<BuildContext> {
  const dir = await contextDir(build.context);
  const dockerfile = await dockerfilePath(dir, build.dockerfile);
  const patterns = await ignorePatterns(dir);
  // A CommonJS module: its factory is both module.exports and .default.
  const ig = dockerignore.default().add(patterns);
  // Docker's CLI (TrimBuildFilesFromExcludes): the two build files are sent even when excluded.
  for (const keep of ['.dockerignore', dockerfile]) {
    if (ig.ignores(keep)) {
      ig.add(`!${keep}`);
      patterns.push(`!${keep}`);
    }
  }
  const exceptions = exceptionPatterns(patterns);
  const entries: ContextEntry[] = [];
  let bytes = 0;

  const walk = async (absDir: string, relDir: string): Promise<void> => {
    if (signal?.aborted) throw abortReason(signal);
    let names: Dirent[];
    try {
      names = await readdir(absDir, { withFileTypes: true });
    } catch (e) {
      throw unreadable(relDir || '.', e);
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of names) {
      const rel = relDir === '' ? d.name : `${relDir}/${d.name}`;
      const abs = join(absDir, d.name);
      if (ig.ignores(rel)) {
        // Docker walks into an excluded directory only when an exception pattern starts with it.
        if (d.isDirectory() && exceptions.some((p) => `${p}/`.startsWith(`${rel}/`))) await walk(abs, rel);
        continue;
      }
      let st: Stats;
      try {
        st = await lstat(abs);
      } catch (e) {
        throw unreadable(rel, e);
      }
      const mode = st.mode & 0o7777;
      if (st.isDirectory()) {
        entries.push({ path: rel, abs, type: 'directory', mode, size: 0 });
        await walk(abs, rel);
      } else if (st.isSymbolicLink()) {
        entries.push({ path: rel, abs, type: 'symlink', mode: 0o777, size: 0, linkname: await readlink(abs) });
      } else if (st.isFile()) {
        entries.push({ path: rel, abs, type: 'file', mode, size: st.size });
        bytes += st.size;
      }
      // Sockets, FIFOs and devices carry no content an image could use: not sent.
    }
  };
  await walk(dir, '');
  return { dir, dockerfile, entries, bytes };
}

/** The context as a tar stream; destroy it to stop reading the disk. */
export function contextTar(ctx: BuildContext): Readable {
  const tar = pack();
  void (async () => {
    for (const e of ctx.entries) {
      const header: TarHeader = { name: e.path, type: e.type, mode: e.mode, size: e.size, mtime: EPOCH, uid: 0, gid: 0, uname: '', gname: '' };
      if (e.linkname !== undefined) header.linkname = e.linkname;
      if (e.type === 'file' && e.size > 0) await writeFile(tar, header, e);
      else await new Promise<void>((resolve, reject) => tar.entry(header, (err) => (err ? reject(err) : resolve())));
    }
    tar.finalize();
  })().catch((err: unknown) => tar.destroy(err instanceof Error ? err : new Error(String(err))));
  return toNodeReadable(tar);
}

/**
 * tar-stream's streams are streamx ones; the engine client and pipes want a Node Readable. Its
 * destroy is synchronous, so an error reaches the consumer's listeners (Readable.from's does not).
 */
function toNodeReadable(tar: Pack): Readable {
  const out = new Readable({
    read: () => { tar.resume(); },
    destroy: (err, cb) => {
      tar.destroy();
      cb(err);
    },
  });
  tar.on('data', (chunk: unknown) => { if (!out.push(chunk)) tar.pause(); });
  tar.on('end', () => out.push(null));
  tar.on('error', (err: Error) => out.destroy(err));
  return out;
}

/** "sha256:<hex>" of the context's tar stream. */
export async function contextDigest(ctx: BuildContext, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const tar = contextTar(ctx);
  const stop = (): void => { tar.destroy(signal ? abortReason(signal) : undefined); };
  signal?.addEventListener('abort', stop, { once: true });
  try {
    if (signal?.aborted) throw abortReason(signal);
    for await (const chunk of tar) hash.update(chunk as Buffer);
  } finally {
    signal?.removeEventListener('abort', stop);
  }
  return `sha256:${hash.digest('hex')}`;
}

/** Streams one file into its tar entry in chunks, waiting whenever the reader is behind. */
async function writeFile(tar: Pack, header: TarHeader, e: ContextEntry): Promise<void> {
  let sink: ReturnType<Pack['entry']> | undefined;
  const done = new Promise<void>((resolve, reject) => {
    sink = tar.entry(header, (err) => (err ? reject(err) : resolve()));
  });
  const out = sink!;
  done.catch(() => undefined); // seen below; a read error may come first
  out.on('error', () => undefined); // the entry's failure reaches us through `done` and the pack
  // Destroying the entry with the cause makes the whole tar fail with it, not a generic error.
  const fh = await open(e.abs, 'r').catch((err: unknown) => {
    const failure = unreadable(e.path, err);
    out.destroy(failure);
    throw failure;
  });
  try {
    for (let pos = 0; pos < e.size; ) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, e.size - pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) throw new BuildContextError('build.context', `${e.path} shrank while it was being read; retry when it no longer changes`);
      pos += bytesRead;
      if (!out.write(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead))) {
        await Promise.race([new Promise<void>((r) => out.once('drain', () => r())), done]);
      }
    }
    out.end(undefined);
  } catch (err) {
    out.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  } finally {
    await fh.close();
  }
  await done;
}

async function contextDir(context: string): Promise<string> {
  if (!isAbsolute(context)) throw new BuildContextError('build.context', `expected an absolute directory, got ${JSON.stringify(context)}`);
  let st: Stats;
  try {
    st = await stat(context);
  } catch (e) {
    throw new BuildContextError('build.context', `${context} ${reason(e)}`);
  }
  if (!st.isDirectory()) throw new BuildContextError('build.context', `${context} is not a directory`);
  return realpath(context);
}

async function dockerfilePath(dir: string, dockerfile: string): Promise<string> {
  const rel = posix.normalize((dockerfile || 'Dockerfile').split(sep).join('/'));
  const escape = (): BuildContextError =>
    new BuildContextError('build.dockerfile', `${JSON.stringify(dockerfile)} is outside the build context ${dir}; give a path inside it`);
  if (posix.isAbsolute(rel) || rel === '..' || rel.startsWith('../')) throw escape();
  if (rel === '.') throw new BuildContextError('build.dockerfile', 'expected a file path, got the context directory itself');
  let real: string;
  try {
    real = await realpath(join(dir, rel));
  } catch (e) {
    throw new BuildContextError('build.dockerfile', `${rel} ${reason(e)} in the build context ${dir}`);
  }
  // A symlink may point out of the context: the builder would not find it there.
  const inside = relative(dir, real);
  if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) throw escape();
  if (!(await stat(real)).isFile()) throw new BuildContextError('build.dockerfile', `${rel} is not a regular file`);
  return rel;
}

/** The lines of .dockerignore at the context root; the library applies Docker's parsing rules. */
async function ignorePatterns(dir: string): Promise<string[]> {
  try {
    const text = await readFile(join(dir, '.dockerignore'), 'utf8');
    return text.split('\n').map((l) => l.replace(/\r$/, ''));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new BuildContextError('build.context', `.dockerignore ${reason(e)}`);
  }
}

/** The `!` patterns cleaned as Docker cleans them, to compare with directory paths. */
function exceptionPatterns(lines: readonly string[]): string[] {
  return lines
    .map((l) => l.trim())
    .filter((l) => l.startsWith('!'))
    .map((l) => posix.normalize(l.slice(1).trim()).replace(/^\/+/, ''));
}

function unreadable(path: string, e: unknown): BuildContextError {
  return new BuildContextError('build.context', `${path} ${reason(e)}`);
}

function reason(e: unknown): string {
  switch ((e as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read (permission denied)';
    case 'ENOTDIR':
      return 'is not a directory';
    case 'ELOOP':
      return 'is a symlink loop';
    default:
      return `cannot be read (${e instanceof Error ? e.message : String(e)})`;
  }
}
