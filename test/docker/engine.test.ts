// The Engine API client against the tests' real dockerd, and against sockets that misbehave.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pack } from 'tar-stream';
import { DockerEngine } from '../../src/docker/engine.js';
import { EngineError, EngineUnreachableError } from '../../src/docker/errors.js';
import { jsonLines } from '../../src/docker/streams.js';
import { testDocker, type TestDocker } from '../infra/docker.js';

describe('DockerEngine', () => {
  let docker: TestDocker;
  let engine: DockerEngine;
  const dir = mkdtempSync(join(tmpdir(), 'wharf-engine-'));
  const servers: Server[] = [];
  before(async () => {
    docker = await testDocker();
    engine = new DockerEngine({ host: docker.host });
  });
  after(() => {
    engine.close();
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pings the engine, which speaks at least the pinned API version', async () => {
    const { apiVersion } = await engine.ping();
    assert.ok(apiVersion && Number(apiVersion.split('.')[1]) >= 41, `engine API ${apiVersion}`);
  });

  it('parses JSON answers and sends JSON filters', async () => {
    const images = await engine.request<{ RepoTags?: string[] }[]>('GET', '/images/json', { query: { filters: { reference: [docker.busybox] } } });
    assert.deepEqual(images.map((i) => i.RepoTags), [[docker.busybox]]);
  });

  it('quotes the engine\'s error message verbatim, with the status', async () => {
    await assert.rejects(engine.request('GET', '/containers/wharf-no-such-container/json'),
      (e: unknown) => e instanceof EngineError && e.status === 404 && e.message === 'No such container: wharf-no-such-container');
  });

  it('reports a failed pull with the engine\'s reason, whether as a status or inside the stream', async () => {
    // Loopback only: nothing listens on port 9, so the engine's first request fails.
    const pull = async (): Promise<void> => {
      const res = await engine.stream('POST', '/images/create', { query: { fromImage: '127.0.0.1:9/wharf/none', tag: '1' } });
      for await (const x of jsonLines(res)) void x;
    };
    await assert.rejects(pull(), (e: unknown) => e instanceof EngineError && /127\.0\.0\.1:9.*connection refused/.test(e.message));
  });

  it('sends a stream body (tar-stream\'s pack) as it is made', async () => {
    const tar = pack();
    tar.entry({ name: 'hello.txt' }, 'hi\n');
    tar.finalize();
    const repo = `wharf-test/engine-import-${process.pid}`;
    const res = await engine.stream('POST', '/images/create', { query: { fromSrc: '-', repo, tag: '1' }, body: tar, headers: { 'content-type': 'application/x-tar' } });
    for await (const x of jsonLines(res)) void x;
    const img = await engine.request<{ Size: number }>('GET', `/images/${repo}:1/json`);
    assert.ok(img.Size > 0);
    await engine.request('DELETE', `/images/${repo}:1`);
  });

  it('rejects with the body\'s own error when the body stream fails', async () => {
    const body = new Readable({ read() { this.destroy(Object.assign(new Error('ENOENT: no such file, open \'/x\''), { code: 'ENOENT' })); } });
    await assert.rejects(engine.request('POST', '/images/create', { query: { fromSrc: '-', repo: 'wharf-test/never', tag: '1' }, body }),
      (e: unknown) => !(e instanceof EngineUnreachableError) && (e as Error).message.startsWith('ENOENT: no such file'));
  });

  it('names the socket and says dockerd is not answering when nothing listens', async () => {
    const socketPath = join(dir, 'missing.sock');
    const e = new DockerEngine({ host: `unix://${socketPath}` });
    await assert.rejects(e.ping(), (err: unknown) => err instanceof EngineUnreachableError
      && err.message.includes(socketPath) && /dockerd is not running/.test(err.message));
    e.close();
  });

  it('gives up on an engine that accepts and never answers, naming the request', async () => {
    const socketPath = join(dir, 'silent.sock');
    const server = createServer(() => { /* accept and say nothing */ });
    servers.push(server);
    await new Promise<void>((r) => server.listen(socketPath, r));
    const e = new DockerEngine({ host: `unix://${socketPath}`, timeoutMs: 200 });
    await assert.rejects(e.request('GET', '/info'), (err: unknown) => err instanceof EngineError && /did not answer GET \/info within 200 ms/.test(err.message));
    e.close();
  });

  it('keeps a streaming answer open past the timeout', async () => {
    const e = new DockerEngine({ host: docker.host, timeoutMs: 300 });
    const res = await e.stream('GET', '/events', { query: { filters: { type: ['network'] } } });
    let ended = false;
    res.on('close', () => { ended = true; });
    await new Promise((r) => setTimeout(r, 800)); // what is tested is that nothing happens for longer than the timeout
    assert.equal(ended, false);
    res.destroy();
    e.close();
  });
});
