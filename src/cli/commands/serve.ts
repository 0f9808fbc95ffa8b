// `wharf serve`: the API server with an embedded worker, on 127.0.0.1:5255 by default.
// SIGTERM/SIGINT drain: stop claiming, let running attempts finish until --drain-timeout, stop
// the rest, close the server and the store.
import type { AuthOptions } from '../../auth/index.js';
import { ApiError } from '../../client/types.js';
import type { AdminStore } from '../../store/admin.js';
import { redactDbUrl } from '../../store/postgres/url.js';
import { formatError } from '../../core/format-error.js';
import { wharfHome } from '../context.js';
import { duration, wholeNumber } from '../flags.js';
import { dbSetting, heartbeatSetting, logLevel, workerSettings, type WorkerFlags } from '../process-setup.js';
import { containerOptions, loadPolicy, type ContainerFlags } from '../runtime-config.js';

export interface ServeOptions extends WorkerFlags {
  host: string;
  port: string;
  db?: string;
  dbFile?: string;
  drainTimeout: string;
  policy?: string;
  requireAuth?: boolean;
  oidcIssuer?: string;
  oidcAudience?: string[];
  oidcJwksUrl?: string;
  /** false with --no-worker: an API server only (workers run as `wharf worker`). */
  worker?: boolean;
  logLevel?: string;
}

export async function serve(o: ServeOptions & ContainerFlags): Promise<number> {
  const port = wholeNumber('--port', o.port, 0);
  const drainMs = duration('--drain-timeout', o.drainTimeout);
  const worker = workerSettings(o);
  const heartbeatMs = heartbeatSetting(o.heartbeat);

  const level = logLevel(o.logLevel);
  const [{ openRuntime }, { startServer }, { pinoLogger, pinoLog }] = await Promise.all([
    import('../../runtime/runtime.js'), import('../../server/listen.js'), import('../../runtime/log.js'),
  ]);
  const logger = pinoLogger(level);
  const log = pinoLog(logger);
  // Where it listens and when it stops are said whatever the level.
  const announce = pinoLog(logger.child({}, { level: 'info' }));
  const home = wharfHome();
  const containers = containerOptions(o);
  const policy = await loadPolicy(o.policy);
  const db = await dbSetting(o, log, 'wharf serve');
  const rt = await openRuntime({
    home, ...(db ? { db } : {}), metrics: true, containers, log, ...(policy ? { policy } : {}), ...(heartbeatMs ? { heartbeatMs } : {}),
    // API only: its workers (wharf worker) may run backends this process has not; a task no live
    // worker can run says so while it waits.
    ...(o.worker === false ? { acceptAllBackends: true } : {}),
  });
  let auth;
  try {
    auth = await authFor(o, rt.admin);
  } catch (e) {
    await rt.close(0);
    throw e;
  }
  for (const note of rt.notes) log.info(note);
  const w = o.worker === false ? undefined : await rt.startWorker(worker);
  const metrics = rt.metrics;
  const server = await startServer({
    host: o.host, port, service: rt.service, store: rt.store, isReady: () => w?.alive ?? true, auth,
    // Fastify logs every request at info: only at debug here; its errors always.
    loggerInstance: logger.child({ component: 'http' }, { level: level === 'debug' ? 'debug' : 'warn' }),
    ...(metrics ? { metrics: () => metrics.scrape() } : {}),
  });
  announce.info(`listening on ${server.url} (API; ${w ? `worker ${w.id}` : 'no worker'}; ` +
    `${auth.mode === 'required' ? `credentials required${auth.oidc ? ': API tokens or OIDC' : ': API tokens'}` : 'no credentials needed on loopback'})`,
  { home, db: db ? redactDbUrl(db) : undefined });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      announce.info(`${signal}: draining (up to ${o.drainTimeout})`);
      // Stop claiming and finish attempts first, then stop answering.
      (w ? w.drain(drainMs) : Promise.resolve())
        .then(() => server.close())
        .then(() => rt.close(0))
        .then(() => resolve(0), (e: unknown) => {
          log.error(`shutting down: ${formatError(e)}`);
          resolve(1);
        });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
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
