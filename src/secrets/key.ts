// Finds the key that seals secrets: WHARF_SECRET_KEY (base64 of 32 bytes) wins; else a key file,
// by default <home>/secret.key, holding the 32 raw bytes, readable by its owner only. The file
// is made on first use: written to a private temp file, synced, then hard-linked into place. A
// link never replaces an existing file, so of processes racing to create it exactly one wins and
// every one of them ends up with the winner's key; and no reader ever sees a half-written key.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SECRET_KEY_BYTES } from './box.js';
import { SecretKeyError } from './errors.js';

export const SECRET_KEY_ENV = 'WHARF_SECRET_KEY';
export const SECRET_KEY_FILE = 'secret.key';

export interface KeyOptions {
  /** The key file; default `<home>/secret.key`. */
  keyFile?: string;
  /** Where WHARF_SECRET_KEY is looked up; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Wharf's home directory (WHARF_HOME). */
  home: string;
}

export async function loadOrCreateKey(opts: KeyOptions): Promise<Buffer> {
  const fromEnv = (opts.env ?? process.env)[SECRET_KEY_ENV];
  if (fromEnv !== undefined) return parseEnvKey(fromEnv);
  const path = opts.keyFile ?? join(opts.home, SECRET_KEY_FILE);
  return (await readKeyFile(path)) ?? (await createKeyFile(path));
}

function parseEnvKey(value: string): Buffer {
  const how = `expected the base64 of ${SECRET_KEY_BYTES} random bytes (make one with: openssl rand -base64 ${SECRET_KEY_BYTES})`;
  const text = value.trim();
  if (text === '') throw new SecretKeyError(SECRET_KEY_ENV, `is set but empty; ${how}, or unset it to use the key file`);
  const key = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || key.toString('base64').replace(/=+$/, '') !== text.replace(/=+$/, '')) {
    throw new SecretKeyError(SECRET_KEY_ENV, `is not valid base64; ${how}`);
  }
  if (key.length !== SECRET_KEY_BYTES) throw new SecretKeyError(SECRET_KEY_ENV, `decodes to ${key.length} bytes; ${how}`);
  return key;
}

/** The key in `path`, or undefined if there is no such file; refuses a loose or malformed one. */
async function readKeyFile(path: string): Promise<Buffer | undefined> {
  let file;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK); // a FIFO must not hang us
  } catch (e) {
    if (code(e) === 'ENOENT') return undefined;
    throw new SecretKeyError(path, `cannot open the secret key file (${code(e) ?? 'unknown error'})`);
  }
  try {
    // Checked on the open file, so what is checked is what is read.
    const st = await file.stat();
    if (!st.isFile()) throw new SecretKeyError(path, 'the secret key file is not a regular file');
    if ((st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      throw new SecretKeyError(path, `the secret key file is accessible by group or others (mode ${mode}); run: chmod 600 ${path}`);
    }
    const key = Buffer.alloc(SECRET_KEY_BYTES + 1);
    const { bytesRead } = await file.read(key, 0, key.length, 0);
    if (bytesRead !== SECRET_KEY_BYTES || st.size !== SECRET_KEY_BYTES) {
      throw new SecretKeyError(path, `the secret key file must hold exactly ${SECRET_KEY_BYTES} raw bytes, it holds ${st.size} (make one with: head -c ${SECRET_KEY_BYTES} /dev/urandom > ${path})`);
    }
    return key.subarray(0, SECRET_KEY_BYTES);
  } finally {
    await file.close();
  }
}

async function createKeyFile(path: string): Promise<Buffer> {
  const dir = dirname(path);
  const fail = (what: string, e: unknown): SecretKeyError =>
    new SecretKeyError(path, `cannot create the secret key file: ${what} failed (${code(e) ?? 'unknown error'}); create it yourself (head -c ${SECRET_KEY_BYTES} /dev/urandom > ${path}; chmod 600 ${path}) or set ${SECRET_KEY_ENV}`);
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((e: unknown) => { throw fail(`creating ${dir}`, e); });
  const key = randomBytes(SECRET_KEY_BYTES);
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  let won = false;
  try {
    const file = await open(tmp, 'wx', 0o600).catch((e: unknown) => { throw fail(`writing ${tmp}`, e); });
    try {
      await file.writeFile(key);
      await file.sync();
    } finally {
      await file.close();
    }
    await link(tmp, path).then(
      () => { won = true; },
      (e: unknown) => { if (code(e) !== 'EEXIST') throw fail(`linking ${tmp} to ${path}`, e); },
    );
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  if (!won) {
    const theirs = await readKeyFile(path);
    if (theirs === undefined) throw new SecretKeyError(path, 'the secret key file vanished while it was being created; try again');
    return theirs;
  }
  await syncDir(dir);
  return key;
}

// Losing the key loses every secret sealed with it, so its directory entry is made durable too.
async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, constants.O_RDONLY).catch(() => undefined);
  if (d === undefined) return;
  try {
    await d.sync();
  } catch {
    // Some filesystems cannot sync a directory; the file itself is synced.
  } finally {
    await d.close();
  }
}

function code(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}
