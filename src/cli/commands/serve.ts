// `wharf serve`: the API server with an embedded worker, on 127.0.0.1:5255 by default.
// SIGTERM/SIGINT drain: stop claiming, let running attempts finish until --drain-timeout, stop
// the rest, close the server and the store.
import { readFile } from 'node:fs/promises';
import type { AuthOptions } from '../../auth/index.js';
import { ApiError } from '../../client/types.js';
import type { AdminStore } from '../../store/admin.js';
import { formatError } from '../../core/format-error.js';
import { MEMORY_RE } from '../../spec/schema.js';
import { memoryBytes } from '../../spec/plan.js';
import { wharfHome } from '../context.js';
import { duration, wholeNumber } from '../flags.js';
import { containerOptions, loadPolicy, type ContainerFlags } from '../runtime-config.js';

export interface ServeOptions {
  host: string;
  port: string;
  db?: string;
  dbFile?: string;
  concurrency?: string;
  lease: string;
  grace: string;
  drainTimeout: string;
  logCap?: string;
  policy?: string;
  requireAuth?: boolean;
  oidcIssuer?: string;
  oidcAudience?: string[];
  oidcJwksUrl?: string;
}

export async function serve(o: ServeOptions & ContainerFlags): Promise<number> {
  const port = wholeNumber('--port', o.port, 0);
  const leaseMs = duration('--lease', o.lease);
  const graceMs = duration('--grace', o.grace);
  const drainMs = duration('--drain-timeout', o.drainTimeout);
  const worker: { leaseMs: number; graceMs: number; concurrency?: number; logCapBytes?: number } = { leaseMs, graceMs };
  if (o.concurrency !== undefined) worker.concurrency = wholeNumber('--concurrency', o.concurrency, 1);
  if (o.logCap !== undefined) {
    if (!MEMORY_RE.test(o.logCap)) throw new ApiError('invalid', `--log-cap: expected a size such as "64Mi", got ${JSON.stringify(o.logCap)}`);
    worker.logCapBytes = memoryBytes(o.logCap);
  }

  const [{ openRuntime }, { startServer }] = await Promise.all([import('../../runtime/runtime.js'), import('../../server/listen.js')]);
  const home = wharfHome();
  const containers = containerOptions(o);
  const policy = await loadPolicy(o.policy);
  const db = await dbSetting(o);
  const rt = await openRuntime({ home, ...(db ? { db } : {}), metrics: true, containers, ...(policy ? { policy } : {}) });
  let auth;
  try {
    auth = await authFor(o, rt.admin);
  } catch (e) {
    await rt.close(0);
    throw e;
  }
  for (const note of rt.notes) process.stderr.write(`wharf: ${note}\n`);
  const w = await rt.startWorker(worker);
  const metrics = rt.metrics;
  const server = await startServer({
    host: o.host, port, service: rt.service, store: rt.store, isReady: () => w.alive, auth,
    ...(metrics ? { metrics: () => metrics.scrape() } : {}),
  });
  process.stderr.write(`wharf: listening on ${server.url} (API; worker ${w.id}, home ${home}; ` +
    `${auth.mode === 'required' ? `credentials required${auth.oidc ? ': API tokens or OIDC' : ': API tokens'}` : 'no credentials needed on loopback'})\n`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`wharf: ${signal}: draining (up to ${o.drainTimeout})\n`);
      // Stop claiming and finish attempts first, then stop answering.
      w.drain(drainMs)
        .then(() => server.close())
        .then(() => rt.close(0))
        .then(() => resolve(0), (e: unknown) => {
          process.stderr.write(`wharf: shutting down: ${formatError(e)}\n`);
          resolve(1);
        });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}

/** --db, else --db-file's content, else WHARF_DB. A password given on the command line is hidden from `ps`. */
async function dbSetting(o: ServeOptions): Promise<string | undefined> {
  if (o.db !== undefined) {
    if (/^postgres(ql)?:\/\/[^/@]*:[^/@]*@/.test(o.db)) {
      // Linux shows the rewritten title in ps in place of the command line.
      process.title = 'wharf serve';
      process.stderr.write('wharf: warning: a database password on the command line can be read by other users; use WHARF_DB or --db-file\n');
    }
    return o.db;
  }
  if (o.dbFile !== undefined) {
    try {
      return (await readFile(o.dbFile, 'utf8')).trim();
    } catch (e) {
      throw new ApiError('invalid', `--db-file: cannot read ${o.dbFile}: ${formatError(e)}`);
    }
  }
  return process.env.WHARF_DB || undefined;
}

/**
 * Bound to loopback, the API may run without credentials (zero setup); anywhere else (or with
 * --require-auth) every /api route needs a token or an OIDC JWT, and the server will not start
 * until someone can hold the admin scope.
 */
async function authFor(o: ServeOptions, admin: AdminStore): Promise<AuthOptions> {
  const [{ bindRequiresAuth, OidcVerifier, storeTokens, tokenUseRecorder }] = await Promise.all([import('../../auth/index.js')]);
  const issuer = o.oidcIssuer ?? process.env.WHARF_OIDC_ISSUER;
  const audience = o.oidcAudience?.length ? o.oidcAudience : process.env.WHARF_OIDC_AUDIENCE?.split(',').filter(Boolean);
  const jwksUrl = o.oidcJwksUrl ?? process.env.WHARF_OIDC_JWKS_URL;
  let oidc;
  if (issuer !== undefined || jwksUrl !== undefined || audience?.length) {
    if (!issuer || !jwksUrl || !audience?.length) {
      throw new ApiError('invalid', 'OIDC needs all of --oidc-issuer, --oidc-audience and --oidc-jwks-url (WHARF_OIDC_ISSUER, WHARF_OIDC_AUDIENCE, WHARF_OIDC_JWKS_URL)');
    }
    try {
      oidc = new OidcVerifier({ issuer, audience, jwksUrl });
    } catch (e) {
      throw new ApiError('invalid', formatError(e));
    }
  }
  const required = o.requireAuth === true || bindRequiresAuth(o.host);
  if (required && !oidc && !(await admin.hasAdminToken(Date.now()))) {
    throw new ApiError('invalid', `serving on ${o.host} needs credentials, and no admin token exists yet. Create one here first ` +
      '(same WHARF_HOME or --db, without WHARF_URL): `wharf token create --scope admin --name admin`, then start again ' +
      '(or configure OIDC with --oidc-issuer, --oidc-audience and --oidc-jwks-url)');
  }
  return { mode: required ? 'required' : 'open', tokens: storeTokens(admin), onUsed: tokenUseRecorder(admin), ...(oidc ? { oidc } : {}) };
}
