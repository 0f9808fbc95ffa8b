// Pulling a run's image from a private registry: Debian's docker-registry with Basic auth on
// loopback, the image pushed there from the test dockerd and removed locally so a run must pull it.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jsonLines } from '../../src/docker/streams.js';
import { registryAuthHeader } from '../../src/builders/registry/index.js';
import { runToEnd, setup, type Ctx } from './docker-helpers.js';

const USER = 'wharf';
const PASSWORD = 'pw-9f3a1c'; // test-only

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  return port;
}

async function waitForRegistry(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited at start:\n${log()}`);
    const status = await fetch(`${url}/v2/`).then((r) => r.status, () => 0);
    if (status === 401) return;
    if (Date.now() > deadline) throw new Error(`docker-registry did not answer at ${url} within 15 s:\n${log()}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

describe('docker backend: private registry', () => {
  let ctx: Ctx;
  const dir = mkdtempSync(join(tmpdir(), 'wharf-registry-'));
  let registry: ChildProcess | undefined;
  let host = '';
  let image = '';
  const asked: string[] = [];

  before(async () => {
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    writeFileSync(join(dir, 'htpasswd'), execFileSync('htpasswd', ['-Bbn', USER, PASSWORD]));
    writeFileSync(join(dir, 'config.yml'), [
      'version: 0.1', 'log: {level: error}', `storage: {filesystem: {rootdirectory: ${join(dir, 'data')}}}`,
      `http: {addr: "${host}"}`, `auth: {htpasswd: {realm: wharf-test, path: ${join(dir, 'htpasswd')}}}`, '',
    ].join('\n'));
    let log = '';
    registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    registry.stderr?.setEncoding('utf8').on('data', (d: string) => { log += d; });
    await waitForRegistry(`http://${host}`, registry, () => log);

    ctx = await setup('registry', {
      credentials: { get: (h) => { asked.push(h); return h === host ? { username: USER, password: PASSWORD } : undefined; } },
    });
    image = `${host}/wharf/bb:1`;
    await ctx.engine.request('POST', `/images/${ctx.docker.busybox}/tag`, { query: { repo: `${host}/wharf/bb`, tag: '1' } });
    const push = await ctx.engine.stream('POST', `/images/${host}/wharf/bb/push`, {
      query: { tag: '1' }, headers: { 'x-registry-auth': registryAuthHeader({ username: USER, password: PASSWORD }, host) },
    });
    for await (const line of jsonLines(push)) void line;
    await ctx.engine.request('DELETE', `/images/${image}`); // only the registry has it now
  });

  after(async () => {
    await ctx?.engine.request('DELETE', `/images/${image}`, { query: { force: true } }).catch(() => undefined);
    await ctx?.cleanup();
    if (registry && registry.exitCode === null) {
      registry.kill('SIGTERM');
      await once(registry, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('cannot pull without credentials: start_failed in the registry\'s words', async () => {
    const other = ctx.other({ credentials: { get: () => undefined } });
    await other.backend.start(ctx.req('anon', ['true'], { image }));
    const exit = await other.rec.ended('anon');
    assert.equal(exit.kind, 'start_failed');
    assert.match(exit.kind === 'start_failed' ? exit.reason : '', /no basic auth credentials/);
  });

  it('pulls with the credentials of the image\'s registry host, and runs', async () => {
    const r = await runToEnd(ctx, 'authed', ['echo', 'pulled'], { image });
    assert.deepEqual([r.exit, r.stdout], [{ kind: 'exited', code: 0 }, 'pulled\n']);
    assert.ok(asked.includes(host), `credentials were asked for ${asked.join(', ')}`);
  });

  it('reports a tag the registry does not have as start_failed with its reason, no password in it', async () => {
    const r = await runToEnd(ctx, 'notag', ['true'], { image: `${host}/wharf/bb:nope` });
    assert.equal(r.exit.kind, 'start_failed');
    const reason = r.exit.kind === 'start_failed' ? r.exit.reason : '';
    assert.match(reason, /manifest unknown/);
    assert.doesNotMatch(reason, new RegExp(PASSWORD));
  });
});
