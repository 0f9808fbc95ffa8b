// The request pipeline, in the apiserver's filter order: count, (fault) delay, authentication (401),
// authorization (403), (fault) failures, then the resource handler; Status errors are written the
// way responsewriters do. WebSocket upgrades (pods/attach) go through the same checks.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { handleAttach } from './attach.js';
import type { Cluster } from './cluster.js';
import type { Ctx, SimConfig } from './context.js';
import type { Counts } from './counts.js';
import { discoveryDoc } from './discovery.js';
import type { Faults } from './faults.js';
import { rejectUpgrade, rejectUpgradeApf, sendApf429, sendJson, sendStatus } from './http-io.js';
import { handleLog } from './logs.js';
import type { Authorizer } from './rbac.js';
import { handleRead } from './reads.js';
import { countKey, parseRequest, type RequestInfo } from './router.js';
import { createSsar } from './ssar.js';
import { StatusError, badRequest, forbidden, internalError, methodNotAllowed, resourceNotFound, serviceUnavailable, unauthorized } from './status.js';
import type { ServingCert } from './tls.js';
import type { WatchHub } from './watch.js';
import { createPod, createSecret, deletePod, deletePods, deleteSecret } from './writes.js';

export interface ServerParts {
  cluster: Cluster;
  hub: WatchHub;
  counts: Counts;
  authz: Authorizer;
  faults: Faults;
  config: SimConfig;
  token: string | undefined;
}

const DEFAULT_FAULT_ERROR = 'etcdserver: request timed out';

/** A Status (or the APF 429) the request must be answered with before any handler runs. */
type Gate = { status: StatusError } | { apf: true } | undefined;

function gate(p: ServerParts, req: IncomingMessage, info: RequestInfo): Gate {
  if (p.token !== undefined && req.headers.authorization !== `Bearer ${p.token}`) return { status: new StatusError(unauthorized()) };
  const isSsar = info.group === 'authorization.k8s.io' && info.resource === 'selfsubjectaccessreviews';
  if (info.isResource && !isSsar) {
    const attrs = { verb: info.verb, group: info.group, resource: info.resource, subresource: info.subresource, namespace: info.namespace };
    if (!p.authz.allows(attrs)) {
      return { status: new StatusError(forbidden(info.resource, info.name || undefined, p.authz.forbiddenReason(attrs), info.group)) };
    }
  }
  const fail = p.faults.take(info);
  if (!fail) return undefined;
  if (fail.status === 429) return { apf: true };
  if (fail.status === 503) return { status: new StatusError(serviceUnavailable(fail.message ?? 'the server is currently unable to handle the request')) };
  return { status: new StatusError(internalError(fail.message ?? DEFAULT_FAULT_ERROR)) };
}

function only(verbs: string[], ctx: Ctx): void {
  if (!verbs.includes(ctx.info.verb)) throw new StatusError(methodNotAllowed());
}

async function route(ctx: Ctx): Promise<void> {
  const { info, cluster } = ctx;
  if (!info.isResource) {
    const doc = ctx.req.method === 'GET' ? discoveryDoc(info.path, ctx.config.version, ctx.config.serverAddress) : undefined;
    if (doc === undefined) throw new StatusError(resourceNotFound());
    sendJson(ctx.res, 200, doc);
    return;
  }
  if (info.group === 'authorization.k8s.io' && info.version === 'v1' && info.resource === 'selfsubjectaccessreviews' && !info.name) {
    only(['create'], ctx);
    await createSsar(ctx);
    return;
  }
  if (info.group !== '' || info.version !== 'v1') throw new StatusError(resourceNotFound());
  const ns = info.namespace;
  switch (`${info.resource}/${info.subresource}`) {
    case 'namespaces/':
      only(['get', 'list', 'watch'], ctx);
      return handleRead(ctx, cluster.namespaces, true);
    case 'pods/':
      if (['get', 'list', 'watch'].includes(info.verb)) return handleRead(ctx, cluster.pods, false);
      if (!ns) throw new StatusError(methodNotAllowed());
      if (info.verb === 'create' && !info.name) return createPod(ctx);
      if (info.verb === 'delete') return deletePod(ctx);
      if (info.verb === 'deletecollection') return deletePods(ctx);
      throw new StatusError(methodNotAllowed());
    case 'pods/status':
      only(['get'], ctx);
      return handleRead(ctx, cluster.pods, false);
    case 'pods/log':
      only(['get'], ctx);
      return handleLog(ctx);
    case 'pods/attach':
    case 'pods/exec':
      throw new StatusError(badRequest('Upgrade request required'));
    case 'secrets/':
      if (['get', 'list', 'watch'].includes(info.verb)) return handleRead(ctx, cluster.secrets, false);
      if (!ns) throw new StatusError(methodNotAllowed());
      if (info.verb === 'create' && !info.name) return createSecret(ctx);
      if (info.verb === 'delete') return deleteSecret(ctx);
      throw new StatusError(methodNotAllowed());
    default:
      throw new StatusError(resourceNotFound());
  }
}

function writeError(res: ServerResponse, e: unknown): void {
  const se = e instanceof StatusError ? e : new StatusError(internalError(e instanceof Error ? e.message : String(e)));
  if (res.headersSent) {
    res.socket?.destroy();
    return;
  }
  sendStatus(res, se.status, se.headers);
}

export function createApiServer(p: ServerParts, tls: ServingCert | undefined): { server: Server; dropConnections(): void } {
  const sockets = new Set<Socket>();
  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const info = parseRequest(req.method ?? 'GET', req.url ?? '/');
    p.counts.request(countKey(info));
    try {
      if (p.faults.delayMs > 0) await sleep(p.faults.delayMs);
      const g = gate(p, req, info);
      if (g && 'apf' in g) { sendApf429(res); return; }
      if (g) throw g.status;
      await route({ req, res, info, cluster: p.cluster, hub: p.hub, counts: p.counts, authz: p.authz, config: p.config });
    } catch (e) {
      writeError(res, e);
    }
  };
  const onUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const info = parseRequest(req.method ?? 'GET', req.url ?? '/');
    p.counts.request(countKey(info));
    try {
      if (p.faults.delayMs > 0) await sleep(p.faults.delayMs);
      const g = gate(p, req, info);
      if (g && 'apf' in g) { rejectUpgradeApf(socket); return; }
      if (g) throw g.status;
      if (info.resource !== 'pods' || info.subresource !== 'attach' || !info.name) {
        throw new StatusError(badRequest(`the simulator does not serve WebSocket upgrades for ${info.path} (only pods/attach)`));
      }
      await handleAttach(p.cluster, info, req, socket, head);
    } catch (e) {
      const se = e instanceof StatusError ? e : new StatusError(internalError(e instanceof Error ? e.message : String(e)));
      rejectUpgrade(socket, se.status, se.headers);
    }
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => { void onRequest(req, res); };
  const server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, handler) : createServer(handler);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => { void onUpgrade(req, socket, head); });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    server,
    dropConnections: () => { for (const s of [...sockets]) s.destroy(); },
  };
}
