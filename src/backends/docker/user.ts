// Which uid/gid a container's user is, read from the container's own /etc/passwd and /etc/group,
// so input files can be owned by it. (The archive API's copyUIDGID looks the user up on the
// engine's host instead, and fails for uids and names only the image knows.)
import { once } from 'node:events';
import { extract } from 'tar-stream';
import type { DockerEngine } from '../../docker/engine.js';
import { EngineError } from '../../docker/errors.js';

export interface Owner {
  uid: number;
  gid: number;
}

const MAX_FILE = 1024 * 1024;

/** Entries of a passwd or group file by name and by id: name → [id, gid (passwd) or id (group)]. */
export function parseIdFile(text: string): { byName: Map<string, [number, number]>; byId: Map<number, [number, number]> } {
  const byName = new Map<string, [number, number]>();
  const byId = new Map<number, [number, number]>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    const id = Number(f[2]);
    const gid = Number(f[3] ?? f[2]);
    if (f.length < 3 || !f[0] || !Number.isInteger(id)) continue;
    const entry: [number, number] = [id, Number.isInteger(gid) ? gid : id];
    if (!byName.has(f[0])) byName.set(f[0], entry);
    if (!byId.has(id)) byId.set(id, entry);
  }
  return { byName, byId };
}

/**
 * Docker's rules: "" is root; "uid" or "name" takes the passwd entry's group (0 when a numeric
 * uid has none); ":group" overrides it by gid or group name. Undefined when a name is unknown
 * (the engine will refuse to start the container and say so).
 */
export function resolveOwner(user: string, passwd: string, group: string): Owner | undefined {
  if (user === '') return { uid: 0, gid: 0 };
  const [u = '', g] = user.split(':', 2);
  const users = parseIdFile(passwd);
  let uid: number;
  let gid: number;
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    gid = users.byId.get(uid)?.[1] ?? 0;
  } else {
    const e = users.byName.get(u);
    if (!e) return undefined;
    [uid, gid] = e;
  }
  if (g !== undefined && g !== '') {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const e = parseIdFile(group).byName.get(g);
      if (!e) return undefined;
      gid = e[0];
    }
  }
  return { uid, gid };
}

/** The owner for files put into container `id`, whose configured user is `user`. */
export async function containerOwner(engine: DockerEngine, id: string, user: string): Promise<Owner | undefined> {
  if (user === '' || /^\d+:\d+$/.test(user)) return resolveOwner(user, '', ''); // nothing to look up
  const [passwd, group] = await Promise.all([readFile(engine, id, '/etc/passwd'), readFile(engine, id, '/etc/group')]);
  return resolveOwner(user, passwd, group);
}

/** A small text file of the container ('' when it has none). */
async function readFile(engine: DockerEngine, id: string, path: string): Promise<string> {
  let res;
  try {
    res = await engine.stream('GET', `/containers/${encodeURIComponent(id)}/archive`, { query: { path } });
  } catch (e) {
    if (e instanceof EngineError && e.status === 404) return '';
    throw e;
  }
  const ex = extract();
  ex.on('error', () => undefined); // streamx emits it even unheard; the loop below gets it anyway
  const feeding = (async () => {
    for await (const chunk of res as AsyncIterable<Buffer>) if (!ex.write(chunk)) await once(ex, 'drain');
    ex.end(undefined);
  })().catch((e: unknown) => ex.destroy(e instanceof Error ? e : new Error(String(e))));
  let text = '';
  for await (const entry of ex) {
    const parts: Buffer[] = [];
    let size = 0;
    for await (const c of entry as AsyncIterable<Buffer>) {
      size += c.length;
      if (size <= MAX_FILE) parts.push(c);
    }
    if (entry.header.type === 'file' && text === '') text = Buffer.concat(parts).toString('utf8');
  }
  await feeding;
  return text;
}
