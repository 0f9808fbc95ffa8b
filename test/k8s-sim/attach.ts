// pods/attach over WebSocket, as the API server's stream translator speaks it: subprotocol
// v5.channel.k8s.io (v4 accepted too), binary frames whose first byte is the channel (0 stdin,
// 1 stdout, 2 stderr, 3 status, 4 resize, 255 close — v5 only: [255, 0] half-closes stdin).
// Errors before the upgrade are plain HTTP answers with a Status body.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Cluster } from './cluster.js';
import { resolveContainer } from './logs.js';
import { queryBool, type RequestInfo } from './router.js';
import { StatusError, badRequest, notFound } from './status.js';

const SUPPORTED = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const SUCCESS = JSON.stringify({ metadata: {}, status: 'Success' });

const wss = new WebSocketServer({
  noServer: true,
  handleProtocols: (offered: Set<string>) => SUPPORTED.find((p) => offered.has(p)) ?? false,
});

function offeredProtocols(req: IncomingMessage): string[] {
  return (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function frame(channel: number, data: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([channel]), data]);
}

/** Checks the request, asks the kubelet, and upgrades; throws a StatusError for a pre-upgrade answer. */
export async function handleAttach(cluster: Cluster, info: RequestInfo, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const { namespace, name, query } = info;
  const pod = cluster.pods.get(namespace, name);
  if (!pod) throw new StatusError(notFound('pods', name));
  const container = resolveContainer(pod, query.get('container') ?? undefined);
  const want = { stdin: queryBool(query, 'stdin') === true, stdout: queryBool(query, 'stdout') === true, stderr: queryBool(query, 'stderr') === true };
  if (!want.stdin && !want.stdout && !want.stderr) throw new StatusError(badRequest('you must specify at least one of stdin, stdout, stderr'));
  if (!pod.spec?.nodeName || !cluster.kubelet) throw new StatusError(badRequest(`pod ${name} does not have a host assigned`));
  if (!offeredProtocols(req).some((p) => SUPPORTED.includes(p))) {
    throw new StatusError(badRequest(`unable to upgrade connection: none of the requested subprotocols are supported; offer one of ${SUPPORTED.join(', ')}`));
  }
  const streams = await cluster.kubelet.attach(namespace, name, container);
  if (!('stdout' in streams)) throw new StatusError(streams);
  wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    const v5 = ws.protocol === 'v5.channel.k8s.io';
    const { stdin, stdout, stderr } = streams;
    let open = 2;
    const outputEnded = (): void => {
      if (--open > 0) return;
      ws.send(frame(3, Buffer.from(SUCCESS)));
      ws.close(1000);
    };
    // an empty write on the lowest output channel says "connection established"
    if (want.stdout || want.stderr) ws.send(frame(want.stdout ? 1 : 2));
    stdout.on('data', (c: Buffer) => { if (want.stdout) ws.send(frame(1, Buffer.from(c))); });
    stderr.on('data', (c: Buffer) => { if (want.stderr) ws.send(frame(2, Buffer.from(c))); });
    stdout.once('end', outputEnded);
    stderr.once('end', outputEnded);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary || data.length < 1) return;
      const ch = data[0];
      if (ch === 0 && want.stdin && data.length > 1) stdin.write(data.subarray(1));
      else if (ch === 255 && v5 && data[1] === 0) stdin.end();
    });
    ws.on('close', () => {
      // the client went away: the session's streams are done with
      if (!stdin.writableEnded) stdin.end();
      stdout.destroy();
      stderr.destroy();
    });
  });
}
