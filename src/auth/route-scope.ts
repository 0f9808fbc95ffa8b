// The scope each API route needs. Unknown mutating routes need admin (fail closed): a new route
// gets a lesser scope only by being added here.
import type { Scope } from './scopes.js';

/** Path segments under /api/v1 that only administrators may touch, reads included. */
const ADMIN_AREAS = new Set(['tokens', 'audit', 'secrets']);

/**
 * `url` is a route pattern (`/api/v1/jobs/:id/cancel`) or a path; a query is ignored.
 * GET/HEAD → read; POST /api/v1/jobs → submit; POST …/jobs/:id/cancel → cancel;
 * POST …/jobs/:id/retry → submit (it starts new attempts, as a submit does);
 * /api/v1/tokens*, /api/v1/audit*, /api/v1/secrets* → admin whatever the method; anything else → admin.
 */
export function scopeFor(method: string, url: string): Scope {
  const path = url.split('?')[0] ?? url;
  const seg = path.split('/').filter((s) => s !== '');
  const [api, version, area] = seg;
  const inV1 = api === 'api' && version === 'v1';
  if (inV1 && area !== undefined && ADMIN_AREAS.has(area)) return 'admin';
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') return 'read';
  if (inV1 && area === 'jobs' && m === 'POST') {
    if (seg.length === 3) return 'submit';
    if (seg.length === 5 && seg[4] === 'cancel') return 'cancel';
    if (seg.length === 5 && seg[4] === 'retry') return 'submit';
  }
  return 'admin';
}
