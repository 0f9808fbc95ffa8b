// Makes a busybox image locally (nothing can be pulled here): Debian's busybox-static with a
// symlink per applet, /etc/passwd and /etc/group, imported through the Engine API.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pack } from 'tar-stream';
import { engineCall } from './dockerd.js';

export const BUSYBOX = 'wharf-test/busybox:1';

export async function importBusybox(socketPath: string, ref = BUSYBOX): Promise<string> {
  const [repo, tag] = ref.split(':') as [string, string];
  const tar = pack();
  const dir = (name: string, mode = 0o755): void => { tar.entry({ name, type: 'directory', mode }); };
  for (const d of ['bin', 'etc', 'root', 'proc', 'sys', 'dev', 'home']) dir(d);
  dir('tmp', 0o1777);
  tar.entry({ name: 'bin/busybox', mode: 0o755 }, readFileSync('/bin/busybox'));
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) tar.entry({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' });
  tar.entry({ name: 'etc/passwd', mode: 0o644 }, 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n');
  tar.entry({ name: 'etc/group', mode: 0o644 }, 'root:x:0:\nnogroup:x:65534:\n');
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const c of tar) chunks.push(c as Buffer);
  const q = new URLSearchParams({ fromSrc: '-', repo, tag, changes: 'CMD ["sh"]' });
  const r = await engineCall(socketPath, 'POST', `/images/create?${q}`, Buffer.concat(chunks), { 'Content-Type': 'application/x-tar' });
  if (r.status !== 200 || r.text.includes('"error')) throw new Error(`importing ${ref} failed (${r.status}): ${r.text}`);
  return ref;
}
