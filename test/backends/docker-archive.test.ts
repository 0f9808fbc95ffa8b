// Copying outputs out of an archive the engine sends: nothing may land outside the output
// directory. A fake engine on a unix socket serves crafted tars.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pack } from 'tar-stream';
import { CopyError, copyOut } from '../../src/backends/docker/archive.js';
import { DockerEngine } from '../../src/docker/engine.js';

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; linkname?: string; body?: string };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const p = pack();
  for (const e of entries) p.entry({ name: e.name, type: e.type ?? 'file', mode: 0o644, ...(e.linkname ? { linkname: e.linkname } : {}) }, e.body ?? '');
  p.finalize();
  const parts: Buffer[] = [];
  for await (const c of p) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('docker backend: output archives', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-archive-'));
  const socketPath = join(dir, 'fake.sock');
  let served: Buffer = Buffer.alloc(0);
  let server: Server;
  let engine: DockerEngine;
  before(async () => {
    server = createServer((req, res) => {
      if (req.method === 'GET' && req.url?.startsWith('/v1.41/containers/c1/archive?path=')) {
        res.writeHead(200, { 'content-type': 'application/x-tar' }).end(served);
      } else res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"not here"}');
    });
    await new Promise<void>((r) => server.listen(socketPath, r));
    engine = new DockerEngine({ host: `unix://${socketPath}` });
  });
  after(() => {
    engine.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function extractTo(name: string, entries: Entry[]): Promise<string> {
    served = await tarOf(entries);
    const to = join(dir, name, 'to');
    mkdirSync(to, { recursive: true });
    await copyOut(engine, 'c1', { from: '/out', to });
    return to;
  }

  it('extracts files, directories, symlinks and hard links inside the directory', async () => {
    const to = await extractTo('ok', [
      { name: 'out/', type: 'directory' }, { name: 'out/a/b.txt', body: 'b' }, { name: 'out/l', type: 'symlink', linkname: '/etc/passwd' },
      { name: 'out/h', type: 'link', linkname: 'out/a/b.txt' },
    ]);
    assert.equal(readFileSync(join(to, 'out', 'a', 'b.txt'), 'utf8'), 'b');
    assert.equal(readlinkSync(join(to, 'out', 'l')), '/etc/passwd'); // kept as a link, never followed
    assert.equal(readFileSync(join(to, 'out', 'h'), 'utf8'), 'b');
  });

  for (const [what, entries] of [
    ['a ".." entry', [{ name: 'out/../../escaped', body: 'x' }]],
    ['an absolute entry', [{ name: '/escaped-abs', body: 'x' }]],
    ['a write through a symlink it made', [{ name: 'out/l', type: 'symlink', linkname: '../..' }, { name: 'out/l/escaped', body: 'x' }]],
    ['a hard link to a file outside', [{ name: 'out/h', type: 'link', linkname: '../../../etc/hostname' }]],
  ] as [string, Entry[]][]) {
    it(`refuses ${what}, naming the output`, async () => {
      const name = what.replace(/\W+/g, '-');
      await assert.rejects(extractTo(name, entries), (e: unknown) => e instanceof CopyError && e.message.startsWith(`output /out → ${join(dir, name, 'to')}:`));
      assert.equal(existsSync(join(dir, name, 'escaped')) || existsSync(join(dir, 'escaped')) || existsSync('/escaped-abs'), false);
    });
  }

  it('refuses to write through a symlink already in the output directory', async () => {
    const to = join(dir, 'pre', 'to');
    mkdirSync(join(dir, 'pre', 'elsewhere'), { recursive: true });
    mkdirSync(to, { recursive: true });
    symlinkSync(join(dir, 'pre', 'elsewhere'), join(to, 'out'));
    served = await tarOf([{ name: 'out/f', body: 'x' }]);
    await assert.rejects(copyOut(engine, 'c1', { from: '/out', to }), /symlink; writing through it is refused/);
    assert.equal(existsSync(join(dir, 'pre', 'elsewhere', 'f')), false);
  });

  it('names the output and quotes the engine when the path is missing', async () => {
    await assert.rejects(copyOut(engine, 'c2', { from: '/x', to: join(dir, 'missing') }), (e: unknown) => e instanceof CopyError && e.message.endsWith(': not here'));
  });
});
