// pods/attach on Docker: POST /containers/{id}/attach upgraded to a raw TCP stream (hijacked
// connection). What is written to stdin goes to the process; ending stdin half-closes the
// connection, and the engine then closes the container's stdin (StdinOnce), so the process
// reads EOF. The output comes multiplexed (no TTY) and is split into stdout and stderr.
import http from 'node:http';
import type { Socket } from 'node:net';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { API_VERSION } from '../../../src/docker/engine.js';
import { EngineError, engineMessage } from '../../../src/docker/errors.js';
import type { DockerHost } from '../../../src/docker/host.js';
import { demux } from '../../../src/docker/streams.js';

export interface Attached {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Cuts the connection (the kubelet is closing). */
  close(): void;
}

export function attachContainer(host: DockerHost, id: string, tty: boolean): Promise<Attached> {
  if (host.kind === 'tcp' && host.tls) return Promise.reject(new Error('attach over TLS is not supported by the k8s simulator'));
  const target = host.kind === 'unix' ? { socketPath: host.socketPath } : { hostname: host.hostname, port: host.port };
  const path = `/v${API_VERSION}/containers/${encodeURIComponent(id)}/attach?stream=1&stdin=1&stdout=1&stderr=1`;
  return new Promise((resolve, reject) => {
    const req = http.request({ ...target, method: 'POST', path, agent: false, headers: { Connection: 'Upgrade', Upgrade: 'tcp' } });
    req.on('error', reject);
    req.on('response', (res) => {
      // No upgrade: the engine refused (e.g. 409 for a stopped container).
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => reject(new EngineError(res.statusCode ?? 0, engineMessage(Buffer.concat(parts).toString('utf8'), res.statusCode ?? 0), `POST /containers/${id}/attach`)));
    });
    req.on('upgrade', (_res, socket: Socket, head: Buffer) => resolve(wire(socket, head, tty)));
    req.end();
  });
}

function wire(socket: Socket, head: Buffer, tty: boolean): Attached {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (socket.destroyed) return cb(new Error('the attach connection is closed'));
      socket.write(chunk, (err) => cb(err ?? null));
    },
    final(cb) {
      socket.end(); // half-close: the process reads EOF, its output keeps coming
      cb();
    },
  });
  async function* body(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    for await (const c of socket as AsyncIterable<Buffer>) yield c;
  }
  void (async () => {
    try {
      if (tty) for await (const c of body()) { if (!stdout.write(c)) await new Promise((r) => stdout.once('drain', r)); }
      else {
        for await (const f of demux(body())) {
          const to = f.stream === 'stderr' ? stderr : stdout;
          if (!to.write(f.data)) await new Promise((r) => to.once('drain', r));
        }
      }
    } catch {
      // the connection was cut: the streams end here
    }
    stdout.end();
    stderr.end();
  })();
  return { stdin, stdout, stderr, close: () => socket.destroy() };
}
