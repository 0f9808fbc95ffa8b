// The request's attributes as the apiserver's RequestInfoFactory derives them: verb (get, list,
// watch, create, delete, …), group, resource, subresource, namespace, name.
export interface RequestInfo {
  isResource: boolean;
  path: string;
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  query: URLSearchParams;
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** Go's conversion of a bool query parameter: present and not "0"/"false" is true (even empty). */
export function queryBool(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  return !(v === '0' || v.toLowerCase() === 'false');
}

export function parseRequest(method: string, rawUrl: string): RequestInfo {
  const url = new URL(rawUrl, 'http://sim.invalid');
  const query = url.searchParams;
  const path = url.pathname;
  const info: RequestInfo = { isResource: false, path, verb: method.toLowerCase(), group: '', version: '', resource: '', subresource: '', namespace: '', name: '', query };
  let parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent);
  if (parts[0] === 'api' && parts.length >= 3) {
    info.version = parts[1] ?? '';
    parts = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    info.group = parts[1] ?? '';
    info.version = parts[2] ?? '';
    parts = parts.slice(3);
  } else {
    return info; // discovery and other non-resource URLs
  }
  info.isResource = true;
  let watchPath = false;
  if (parts[0] === 'watch') {
    watchPath = true;
    parts = parts.slice(1);
  }
  if (parts[0] === 'namespaces' && parts.length >= 2) {
    info.namespace = parts[1] ?? '';
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2] ?? '')) parts = parts.slice(2);
  }
  info.resource = parts[0] ?? '';
  info.name = parts[1] ?? '';
  info.subresource = parts[2] ?? '';
  const m = method.toUpperCase();
  const isCollection = info.name === '';
  if (watchPath || ((m === 'GET' || m === 'HEAD') && queryBool(query, 'watch') === true)) info.verb = 'watch';
  else if (m === 'GET' || m === 'HEAD') info.verb = isCollection ? 'list' : 'get';
  else if (m === 'POST') info.verb = 'create';
  else if (m === 'PUT') info.verb = 'update';
  else if (m === 'PATCH') info.verb = 'patch';
  else if (m === 'DELETE') info.verb = isCollection ? 'deletecollection' : 'delete';
  return info;
}

/** `get pods/log`, `list pods`, `get /version` — the key requests are counted under. */
export function countKey(info: RequestInfo): string {
  if (!info.isResource) return `${info.verb} ${info.path}`;
  return `${info.verb} ${info.resource}${info.subresource ? `/${info.subresource}` : ''}`;
}
