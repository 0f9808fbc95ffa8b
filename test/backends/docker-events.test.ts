// The backend's one events stream: when the connection to the engine breaks, it reconnects and
// still reports what happened meanwhile. A proxy on a unix socket stands between it and dockerd.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDockerBackend, type DockerBackend } from '../../src/backends/docker/index.js';
import { DockerEngine } from '../../src/docker/engine.js';
import { Recorder, setup, type Ctx } from './docker-helpers.js';

class Proxy {
  private readonly sockets = new Set<Socket>();
  down = false;
  readonly server: Server;
  constructor(readonly path: string, target: string) {
    this.server = createServer((client) => {
      if (this.down) return void client.destroy();
      const upstream = connect(target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => { client.destroy(); upstream.destroy(); });
      }
      client.pipe(upstream).pipe(client);
    });
  }
  listen(): Promise<void> {
    return new Promise((r) => this.server.listen(this.path, r));
  }
  /** Cuts every connection and refuses new ones until `up()`. */
  cut(): void {
    this.down = true;
    for (const s of this.sockets) s.destroy();
  }
  up(): void {
    this.down = false;
  }
  close(): void {
    this.cut();
    this.server.close();
  }
}

describe('docker backend: events stream', () => {
  let ctx: Ctx;
  const dir = mkdtempSync(join(tmpdir(), 'wharf-docker-events-'));
  let proxy: Proxy;
  let engine: DockerEngine;
  let backend: DockerBackend;
  const reports: string[] = [];
  before(async () => {
    ctx = await setup('events');
    proxy = new Proxy(join(dir, 'proxy.sock'), ctx.docker.socketPath);
    await proxy.listen();
    engine = new DockerEngine({ host: `unix://${proxy.path}` });
    backend = createDockerBackend({ engine, instanceId: ctx.instanceId, report: (m) => reports.push(m) });
  });
  after(async () => {
    await backend.close();
    engine.close();
    proxy.close();
    await ctx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports an end that came while its connection to the engine was down', async () => {
    const rec = new Recorder(backend);
    await backend.start(ctx.req('gap', ['sh', '-c', 'trap "exit 7" USR1; while true; do sleep 0.05; done']));
    await rec.running('gap');
    proxy.cut();
    // The end happens while the backend cannot hear it (straight to dockerd, past the proxy).
    await ctx.engine.request('POST', '/containers/wharf-gap/kill', { query: { signal: 'USR1' } });
    await ctx.engine.request('POST', '/containers/wharf-gap/wait');
    assert.equal(rec.of('gap').some((e) => e.state.phase === 'ended'), false);
    proxy.up();
    assert.deepEqual(await rec.ended('gap'), { kind: 'exited', code: 7 });
    assert.ok(reports.some((m) => /events stream (failed|ended)/.test(m)), reports.join('\n'));
    assert.deepEqual(rec.of('gap').map((e) => e.state.phase), ['running', 'ended']);
  });
});
