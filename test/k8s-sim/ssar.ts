// SelfSubjectAccessReview: POST → 201, the spec echoed and status.allowed from the same RBAC table
// requests are checked against (a denial carries no reason).
import type { Ctx } from './context.js';
import { KINDS, decodeBody } from './decode.js';
import { readJson, sendJson } from './http-io.js';
import { StatusError, fieldError, invalid } from './status.js';

interface ResourceAttributes { namespace?: string; verb?: string; group?: string; version?: string; resource?: string; subresource?: string; name?: string }
interface NonResourceAttributes { path?: string; verb?: string }
interface Review { spec?: { resourceAttributes?: ResourceAttributes; nonResourceAttributes?: NonResourceAttributes } }

/** Paths every authenticated user may GET (system:discovery, system:public-info-viewer). */
const PUBLIC_PATHS = ['/api', '/api/*', '/apis', '/apis/*', '/version', '/healthz', '/livez', '/readyz', '/openapi/*'];

export async function createSsar(ctx: Ctx): Promise<void> {
  const d = decodeBody(KINDS.SelfSubjectAccessReview, await readJson(ctx.req), 'Ignore');
  const review = d.obj as Review;
  const ra = review.spec?.resourceAttributes;
  const nra = review.spec?.nonResourceAttributes;
  if ((ra === undefined) === (nra === undefined)) {
    throw new StatusError(invalid('SelfSubjectAccessReview', '', [
      fieldError.invalid('spec.resourceAttributes', 'null', 'exactly one of nonResourceAttributes or resourceAttributes must be specified'),
    ], 'authorization.k8s.io'));
  }
  let status: { allowed: boolean; reason?: string };
  if (ra) {
    const attrs = { verb: ra.verb ?? '', group: ra.group ?? '', resource: ra.resource ?? '', subresource: ra.subresource ?? '', namespace: ra.namespace ?? '' };
    status = ctx.authz.allows(attrs) ? { allowed: true, reason: ctx.authz.allowReason(attrs) } : { allowed: false };
  } else {
    const path = nra?.path ?? '';
    const ok = nra?.verb === 'get' && PUBLIC_PATHS.some((p) => (p.endsWith('/*') ? path.startsWith(p.slice(0, -1)) : path === p));
    status = ok ? { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"' } : { allowed: false };
  }
  const metadata = ctx.config.version === '1.32' ? { creationTimestamp: null } : {};
  sendJson(ctx.res, 201, { kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata, spec: review.spec, status });
}
