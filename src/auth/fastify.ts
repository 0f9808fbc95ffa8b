// Authentication for the HTTP API: an onRequest hook that turns `Authorization: Bearer …` into
// request.principal and refuses what the principal may not do, in the API's one error shape.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from '../spec/api.js';
import type { OidcVerifier } from './oidc.js';
import { ANONYMOUS, AuthError, scopeError, unauthorized, type Principal } from './principal.js';
import { scopeFor } from './route-scope.js';
import { TOKEN_PREFIX, verifyToken, type TokenRecords } from './tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the request acts for; null on routes that need no credentials (/health, …). */
    principal: Principal | null;
  }
}

export interface AuthOptions {
  /**
   * 'open': a request without credentials acts as anonymous with every scope (only for a
   * loopback-bound server; see bindRequiresAuth). 'required': every protected request needs one.
   * In both, a credential that is sent must be valid.
   */
  mode: 'open' | 'required';
  tokens: TokenRecords;
  /** Accept OIDC JWTs too. */
  oidc?: OidcVerifier;
  /** Called after a token authenticated a request (e.g. to note lastUsedAt); failures are logged only. */
  onUsed?: (tokenId: string) => void | Promise<void>;
  /** Path prefixes that need credentials (default ['/api/']). */
  protect?: readonly string[];
  /** Exact routes exempt from that (default ['/health', '/ready']). */
  open?: readonly string[];
  /** The clock for token expiry (tests). */
  now?: () => number;
}

const REALM = 'wharf';
const BEARER = /^Bearer +(\S+) *$/i;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Installs the hook on `app` (every route, whenever registered, as long as before ready()). */
export function registerAuth(app: FastifyInstance, opts: AuthOptions): void {
  const protect = opts.protect ?? ['/api/'];
  const open = new Set(opts.open ?? ['/health', '/ready']);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req, reply) => {
    // The matched route's pattern, not the raw URL: `/%61pi/v1/jobs` is routed to /api/v1/jobs.
    const path = req.routeOptions.url ?? pathOf(req.url);
    if (open.has(path) || !protect.some((p) => path.startsWith(p))) return;
    const who = await authenticate(req, opts);
    if (who instanceof AuthError) return refuse(reply, who);
    const denied = scopeError(who, scopeFor(req.method, path));
    if (denied) return refuse(reply, denied);
    req.principal = who;
  });
}

async function authenticate(req: FastifyRequest, opts: AuthOptions): Promise<Principal | AuthError> {
  const header = req.headers.authorization;
  if (header === undefined) {
    if (opts.mode === 'open') return ANONYMOUS;
    return unauthorized('missing', `this server requires credentials: send Authorization: Bearer <token> with a Wharf API token${opts.oidc ? ' or an OIDC access token' : ''}`);
  }
  const credential = BEARER.exec(header)?.[1];
  if (credential === undefined) return unauthorized('unsupported', 'the Authorization header must be "Bearer <token>"');
  if (credential.startsWith(TOKEN_PREFIX)) {
    const who = await verifyToken(credential, opts.tokens, opts.now?.());
    if (!(who instanceof AuthError)) noteUse(req, opts, who.tokenId);
    return who;
  }
  if (JWT.test(credential)) {
    if (!opts.oidc) return unauthorized('unsupported', 'this server accepts no OIDC tokens (no issuer is configured); use a Wharf API token');
    return opts.oidc.verify(credential, opts.now?.());
  }
  return unauthorized('malformed', 'the bearer token is neither a Wharf API token (wharf_…) nor a JWT');
}

function noteUse(req: FastifyRequest, opts: AuthOptions, tokenId: string): void {
  if (!opts.onUsed) return;
  // Bookkeeping must not fail or slow the request it describes.
  Promise.resolve()
    .then(() => opts.onUsed?.(tokenId))
    .catch((err: unknown) => req.log.warn({ err, tokenId }, 'recording token use failed'));
}

function refuse(reply: FastifyReply, e: AuthError): FastifyReply {
  const challenge = challengeFor(e);
  if (challenge) void reply.header('www-authenticate', challenge);
  const body: ErrorBody = { error: { code: e.code, message: e.message, details: [] } };
  return reply.code(e.status).send(body);
}

/** RFC 6750 §3: no error code when no credential was sent; invalid_token / insufficient_scope otherwise. */
function challengeFor(e: AuthError): string | undefined {
  if (e.status === 503) return undefined;
  if (e.reason === 'missing') return `Bearer realm="${REALM}"`;
  if (e.status === 403) return `Bearer realm="${REALM}", error="insufficient_scope", scope="${e.scope ?? ''}"`;
  return `Bearer realm="${REALM}", error="invalid_token", error_description="${quotable(e.message)}"`;
}

function quotable(s: string): string {
  return s.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?');
}

function pathOf(url: string): string {
  return url.split('?')[0] ?? url;
}
