// get, list (with selectors, limit/continue) and watch, the same for every stored resource.
import type { Ctx } from './context.js';
import { queryInt } from './context.js';
import { sendJson } from './http-io.js';
import { queryBool } from './router.js';
import { parseFieldSelector, parseLabelSelector, type Selector } from './selectors.js';
import { StatusError, badRequest, expired, notFound } from './status.js';
import type { ResourceStore } from './store.js';
import { serveWatch } from './watch.js';
import { wireObject, type KubeObject } from './wire.js';

function selector(ctx: Ctx, resource: string): Selector {
  const q = ctx.info.query;
  const label = parseLabelSelector(q.get('labelSelector') ?? undefined);
  const field = parseFieldSelector(resource, q.get('fieldSelector') ?? undefined);
  return (o) => label(o) && field(o);
}

interface ContinueToken { v: string; rv: number; start: string }

function decodeContinue(token: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ContinueToken;
    if (t.v === 'meta.k8s.io/v1' && typeof t.rv === 'number' && typeof t.start === 'string') return t;
  } catch { /* reported below */ }
  throw new StatusError(badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)'));
}

function list<T extends KubeObject>(ctx: Ctx, store: ResourceStore<T>, namespace: string | undefined): void {
  const q = ctx.info.query;
  const matches = selector(ctx, store.resource);
  const limit = queryInt(q, 'limit');
  const cont = q.get('continue');
  let rv = store.currentRv;
  let items = store.list(namespace).filter(matches);
  const keyOf = (o: KubeObject): string => `${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name ?? ''}`;
  if (cont) {
    const t = decodeContinue(cont);
    if ('tooOld' in store.since(t.rv)) throw new StatusError(expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.'));
    rv = t.rv;
    items = items.filter((o) => keyOf(o) >= t.start);
  }
  const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
  if (limit !== undefined && limit > 0 && items.length > limit) {
    const last = items[limit - 1];
    items = items.slice(0, limit);
    const token = { v: 'meta.k8s.io/v1', rv, start: `${last ? keyOf(last) : ''}\u0000` };
    metadata['continue'] = Buffer.from(JSON.stringify(token)).toString('base64url');
  }
  sendJson(ctx.res, 200, { kind: `${store.kind}List`, apiVersion: 'v1', metadata, items: items.map((o) => wireObject(o, false)) });
}

export function handleRead<T extends KubeObject>(ctx: Ctx, store: ResourceStore<T>, clusterScoped: boolean): void {
  const { info } = ctx;
  const namespace = clusterScoped ? undefined : info.namespace || undefined;
  const name = info.name;
  if (info.verb === 'get') {
    const o = store.get(namespace, name);
    if (!o) throw new StatusError(notFound(store.resource, name));
    sendJson(ctx.res, 200, wireObject(o, true));
    return;
  }
  if (info.verb === 'list') {
    list(ctx, store, namespace);
    return;
  }
  // watch: a name in the path selects that one object (the deprecated /watch/…/name form)
  const base = selector(ctx, store.resource);
  const matches: Selector = name ? (o) => o.metadata?.name === name && base(o) : base;
  const q = info.query;
  const timeout = queryInt(q, 'timeoutSeconds');
  serveWatch({
    req: ctx.req, res: ctx.res, store, namespace, hub: ctx.hub, counts: ctx.counts,
    version: ctx.config.version, bookmarkIntervalMs: ctx.config.bookmarkIntervalMs,
    params: {
      resourceVersion: q.get('resourceVersion') ?? undefined,
      allowBookmarks: queryBool(q, 'allowWatchBookmarks') === true,
      timeoutSeconds: timeout,
      sendInitialEvents: queryBool(q, 'sendInitialEvents'),
      matches,
    },
  });
}
