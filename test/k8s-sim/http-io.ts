// Reading requests and writing answers the way kube-apiserver does: compact JSON + "\n", the
// headers real responses carry (Audit-Id, Cache-Control, the APF flow-schema ids).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { StatusError, badRequest } from './status.js';
import type { Status } from './types.js';

const FLOW_SCHEMA_UID = randomUUID();
const PRIORITY_LEVEL_UID = randomUUID();

export function commonHeaders(): Record<string, string> {
  return {
    'Audit-Id': randomUUID(),
    'Cache-Control': 'no-cache, private',
    'X-Kubernetes-Pf-Flowschema-Uid': FLOW_SCHEMA_UID,
    'X-Kubernetes-Pf-Prioritylevel-Uid': PRIORITY_LEVEL_UID,
  };
}

export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(code, { ...commonHeaders(), 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendStatus(res: ServerResponse, status: Status, headers: Record<string, string> = {}): void {
  sendJson(res, status.code ?? 500, status, headers);
}

/** The API-priority-and-fairness rejection: plain text, not a Status (errors/429-apf-too-many-requests.http). */
export function sendApf429(res: ServerResponse): void {
  const text = 'Too many requests, please try again later.\n';
  res.writeHead(429, {
    ...commonHeaders(), 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff',
    'Retry-After': '1', 'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** An error answer on a socket that asked for an upgrade (before any WebSocket handshake). */
export function rejectUpgrade(socket: Duplex, status: Status, headers: Record<string, string> = {}): void {
  const code = status.code ?? 500;
  const body = `${JSON.stringify(status)}\n`;
  const all: Record<string, string> = { ...commonHeaders(), 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close', ...headers };
  const head = [`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Error'}`, ...Object.entries(all).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
  socket.end(`${head}\r\n\r\n${body}`);
}

/** The APF 429 on a socket that asked for an upgrade. */
export function rejectUpgradeApf(socket: Duplex): void {
  const text = 'Too many requests, please try again later.\n';
  socket.end(`HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nRetry-After: 1\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}

const MAX_BODY = 3 * 1024 * 1024; // etcd's default request limit is ~1.5 MiB; the server allows 3 MiB

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY) throw new StatusError(badRequest('the request body is too large'));
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The body as JSON, or the decoder's 400. An empty body is `undefined`. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new StatusError(badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`));
  }
}
