// pods/log: PodLogOptions from the query (validated as the registry does), the container resolved as
// LogLocation does (400s with the real texts), then the kubelet's stream, flushed per write.
import type { Readable } from 'node:stream';
import type { Ctx } from './context.js';
import { queryInt } from './context.js';
import { commonHeaders, sendStatus } from './http-io.js';
import { queryBool } from './router.js';
import { StatusError, badRequest, fieldError, invalid, notFound, type FieldError } from './status.js';
import type { LogOptions, Pod, Status } from './types.js';

function isStatus(v: Readable | Status): v is Status {
  return typeof (v as Readable).pipe !== 'function';
}

function parseOptions(ctx: Ctx, podName: string): LogOptions {
  const q = ctx.info.query;
  const opts: LogOptions = {
    follow: queryBool(q, 'follow') === true,
    timestamps: queryBool(q, 'timestamps') === true,
    previous: queryBool(q, 'previous') === true,
  };
  const container = q.get('container');
  if (container) opts.container = container;
  const sinceSeconds = queryInt(q, 'sinceSeconds');
  const tailLines = queryInt(q, 'tailLines');
  const limitBytes = queryInt(q, 'limitBytes');
  const sinceTime = q.get('sinceTime') ?? undefined;
  const errs: FieldError[] = [];
  if (tailLines !== undefined && tailLines < 0) errs.push(fieldError.invalid('tailLines', tailLines, 'must be greater than or equal to 0'));
  if (limitBytes !== undefined && limitBytes < 1) errs.push(fieldError.invalid('limitBytes', limitBytes, 'must be greater than 0'));
  if (sinceSeconds !== undefined && sinceSeconds < 1) errs.push(fieldError.invalid('sinceSeconds', sinceSeconds, 'must be greater than 0'));
  if (sinceSeconds !== undefined && sinceTime !== undefined) errs.push(fieldError.forbidden('', 'at most one of `sinceTime` or `sinceSeconds` may be specified'));
  if (errs.length) throw new StatusError(invalid('PodLogOptions', podName, errs));
  if (sinceTime !== undefined) {
    if (Number.isNaN(Date.parse(sinceTime))) throw new StatusError(badRequest(`parsing time ${JSON.stringify(sinceTime)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(sinceTime)} as "2006"`));
    opts.sinceTime = sinceTime;
  }
  if (sinceSeconds !== undefined) opts.sinceSeconds = sinceSeconds;
  if (tailLines !== undefined) opts.tailLines = tailLines;
  if (limitBytes !== undefined) opts.limitBytes = limitBytes;
  return opts;
}

/** The container a pods/log or pods/attach request means (pod/strategy.go validateContainer). */
export function resolveContainer(pod: Pod, requested: string | undefined): string {
  const name = pod.metadata?.name ?? '';
  const containers = (pod.spec?.containers ?? []).map((c) => c.name);
  const inits = (pod.spec?.initContainers ?? []).map((c) => c.name);
  const ephemeral = (pod.spec?.ephemeralContainers ?? []).map((c) => c.name);
  if (!requested) {
    if (containers.length === 1 && containers[0] !== undefined) return containers[0];
    let msg = `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`;
    if (inits.length) msg += ` or one of the init containers: [${inits.join(' ')}]`;
    if (ephemeral.length) msg += ` or one of the ephemeral containers: [${ephemeral.join(' ')}]`;
    throw new StatusError(badRequest(msg));
  }
  if (![...containers, ...inits, ...ephemeral].includes(requested)) {
    throw new StatusError(badRequest(`container ${requested} is not valid for pod ${name}`));
  }
  return requested;
}

export async function handleLog(ctx: Ctx): Promise<void> {
  const { namespace, name } = ctx.info;
  const pod = ctx.cluster.pods.get(namespace, name);
  if (!pod) throw new StatusError(notFound('pods', name));
  const opts = parseOptions(ctx, name);
  opts.container = resolveContainer(pod, opts.container);
  const kubelet = ctx.cluster.kubelet;
  const res = ctx.res;
  if (!pod.spec?.nodeName || !kubelet) {
    // not bound to a node: no location to stream from, an empty 200
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'text/plain', 'Content-Length': '0' });
    res.end();
    return;
  }
  const out = await kubelet.logs(namespace, name, opts);
  if (isStatus(out)) {
    sendStatus(res, out);
    return;
  }
  res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  res.on('close', () => out.destroy());
  out.on('data', (chunk: Buffer | string) => { res.write(chunk); });
  out.on('end', () => res.end());
  out.on('error', () => res.socket?.destroy());
}
