// The Fastify application: body parsers, the one error shape, and the route table bound to its
// handlers. Never listens (listen.ts does), so tests can use app.inject.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { z } from 'zod';
import { registerAuth, type AuthOptions } from '../auth/index.js';
import { ApiError } from '../client/types.js';
import { invalidRequest } from '../api/errors.js';
import type { WharfService } from '../api/service.js';
import type { Store } from '../store/types.js';
import { installErrorHandling, sendError, zodDetails } from './errors.js';
import { BodyText, handlers, type Answer, type Input, type MetricsSource } from './handlers.js';
import { decodeJson } from '../spec/json-text.js';
import { placed } from '../spec/source.js';
import { JSON_TYPES, ROUTES, type RouteName, type RouteSpec } from './routes.js';
import { STREAMED } from './sse.js';

export interface AppOptions {
  service: WharfService;
  store: Store;
  /** Whether the rest of the process (e.g. the workers) is up; /ready answers 503 while false. */
  isReady: () => boolean | Promise<boolean>;
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Fastify's logger option (default off). */
  logger?: FastifyServerOptions['logger'];
  /** A pino logger to use instead (the process's own). */
  loggerInstance?: FastifyBaseLogger;
  /** Interval of `: ping` comments on idle event streams (default 15 s). */
  pingMs?: number;
  /** The Prometheus exposition for GET /metrics; without it, /metrics answers 404. */
  metrics?: MetricsSource;
  /** Who may call /api/*; without it every request acts as anonymous with every scope. */
  auth?: AuthOptions;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export function buildApp(opts: AppOptions): FastifyInstance {
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = fastify({
    ...(opts.loggerInstance ? { loggerInstance: opts.loggerInstance } : { logger: opts.logger ?? false }),
    bodyLimit,
    // Fastify's own 503 while closing has another error shape; requests then are served as usual.
    return503OnClosing: false,
    // Only what the route table says: no implicit HEAD twins of GET routes (or of event streams).
    exposeHeadRoutes: false,
    // Refusals made before routing (a bad %-escape, an overlong path segment) get the one error
    // shape too, not Fastify's own.
    frameworkErrors: (e, req, reply) => sendError(e, req, reply, bodyLimit),
  });

  // Only JSON bodies in general (no route but submit reads one); anything else is refused with
  // 415 before a handler runs.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([...JSON_TYPES], { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    const r = decodeJson(text);
    if (r.ok) return done(null, r.value);
    done(new ApiError('invalid', 'the request body is not valid JSON', [{ path: '', message: placed(text, r.offset, r.message) }]), undefined);
  });

  installErrorHandling(app, bodyLimit);
  if (opts.auth) registerAuth(app, opts.auth);

  const live = new Set<AbortController>();
  // Node counts a connection that has not sent a request yet as busy until headersTimeout
  // (a minute), so close() would wait for it; those are dropped on close.
  const fresh = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    fresh.add(socket);
    socket.once('close', () => fresh.delete(socket));
  });
  app.server.on('request', (req: IncomingMessage) => fresh.delete(req.socket));
  // Open event streams would hold close() up until their jobs end; end them first.
  app.addHook('preClose', async () => {
    for (const ac of live) ac.abort();
    for (const socket of fresh) socket.destroy();
  });

  const table = handlers({
    service: opts.service, store: opts.store, isReady: opts.isReady, sse: { live, pingMs: opts.pingMs ?? 15_000 }, metrics: opts.metrics,
  });
  for (const name of Object.keys(ROUTES) as RouteName[]) {
    const spec: RouteSpec = ROUTES[name];
    // The table's schemas checked the input, so the handler's typed view of it holds.
    const handle = table[name] as (input: Input<RouteSpec>) => Promise<Answer>;
    const register = (scope: FastifyInstance): void => {
      scope.route({
        method: spec.method,
        url: spec.url,
        handler: async (req, reply) => {
          const params = check(spec.params, req.params, 'path');
          const query = check(spec.query, req.query, 'query');
          const body = spec.body?.parsed ? checkBody(spec.body.schema, req.body) : req.body;
          const answer = await handle({ params, query, body, req, reply } as Input<RouteSpec>);
          if (answer === STREAMED) return reply;
          if (answer.status === 204) return reply.code(204).send();
          return reply.code(answer.status).send(answer.body);
        },
      });
    };
    const body = spec.body;
    if (!body || body.parsed) {
      register(app);
      continue;
    }
    // A route that takes a job file gets its text: the job parser reads JSON and YAML itself,
    // so the answer matches the in-process service's to the letter.
    app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      for (const type of body.contentTypes) {
        const format = (JSON_TYPES as readonly string[]).includes(type) ? 'json' : 'yaml';
        scope.addContentTypeParser(type, { parseAs: 'string' }, (_req, text, done) => done(null, new BodyText(String(text), format)));
      }
      register(scope);
    });
  }
  return app;
}

/** A JSON body checked against its schema, naming every bad field. */
function checkBody(schema: z.ZodType, raw: unknown): unknown {
  if (raw === undefined) throw invalidRequest([{ path: '', message: 'expected a JSON body (content-type: application/json)' }]);
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  throw invalidRequest(zodDetails(r.error, [], 'unknown field'));
}

/** Validates path or query parameters, naming every bad one. */
function check(schema: z.ZodObject | undefined, raw: unknown, where: 'path' | 'query'): Record<string, never> {
  if (!schema) return {};
  const r = schema.safeParse(where === 'query' ? listsAsArrays(schema, raw) : raw);
  if (r.success) return r.data as Record<string, never>;
  throw invalidRequest(zodDetails(r.error));
}

/** A repeatable query parameter given once arrives as a string; make it a one-item list. */
function listsAsArrays(schema: z.ZodObject, raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const out: Record<string, unknown> = { ...raw };
  for (const [k, v] of Object.entries(out)) {
    let field: unknown = schema.shape[k];
    if (field instanceof z.ZodOptional) field = field.unwrap();
    if (field instanceof z.ZodArray && typeof v === 'string') out[k] = [v];
  }
  return out;
}
