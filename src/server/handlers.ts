// What each route of the table does, over the WharfService. Requests arrive validated against
// the table's schemas; answers are {status, body} or an event stream already sent.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ApiError } from '../client/types.js';
import type { WharfService } from '../api/service.js';
import { actorOf } from '../auth/index.js';
import type { CreateTokenRequest } from '../spec/admin-api.js';
import type { LogEntry, WharfEvent } from '../spec/api.js';
import { jobJsonSchema } from '../spec/json-schema.js';
import type { Store } from '../store/types.js';
import { openApiDocument } from './openapi.js';
import { ROUTES, type RouteName } from './routes.js';
import { STREAMED, lastEventId, sendSse, wantsSse, type SseOptions } from './sse.js';

/** A job file as sent, for the job parser (which reports syntax errors as the CLI does). */
export class BodyText {
  constructor(readonly text: string, readonly format: 'json' | 'yaml') {}
}

type Part<S, K extends 'params' | 'query'> = S extends { [P in K]: infer Z extends z.ZodType } ? z.output<Z> : Record<string, never>;

export interface Input<S> {
  params: Part<S, 'params'>;
  query: Part<S, 'query'>;
  body: unknown;
  req: FastifyRequest;
  reply: FastifyReply;
}

export type Answer = { status: number; body: unknown } | typeof STREAMED;

export type Handlers = { [K in RouteName]: (input: Input<(typeof ROUTES)[K]>) => Promise<Answer> };

/** The metrics text and its content type, made at each scrape (the server needs no metrics library). */
export type MetricsSource = () => Promise<{ contentType: string; body: string }>;

export interface HandlerDeps {
  service: WharfService;
  store: Store;
  isReady: () => boolean | Promise<boolean>;
  sse: SseOptions;
  metrics: MetricsSource | undefined;
}

const ok = (body: unknown): Answer => ({ status: 200, body });

const isOn = (v: string | undefined): boolean => v === 'true' || v === '1';

export function handlers({ service, store, isReady, sse, metrics }: HandlerDeps): Handlers {
  let openapi: object | undefined;
  /** The service acting for whoever made the request (its audit log entries name them). */
  const acting = (req: FastifyRequest): WharfService => service.as(actorOf(req.principal));
  let jobDoc: object | undefined;

  const logs = async (
    req: FastifyRequest, reply: FastifyReply, id: string, task: string | undefined,
    q: { attempt?: number; after?: number; limit?: number; follow?: string },
  ): Promise<Answer> => {
    const follow = q.follow === undefined ? wantsSse(req) : isOn(q.follow);
    if (!follow) {
      return ok(await service.readLogs(id, { task, attempt: q.attempt, after: q.after, limit: q.limit }));
    }
    const after = lastEventId(req) ?? q.after;
    // Refuse an unknown job or task with a plain 404 before the stream starts.
    await service.checkTask(id, task);
    return sendSse<LogEntry>(req, reply, sse, (signal) => ({
      gen: service.followLogs(id, task, after === undefined ? { signal } : { after, signal }),
      id: (e) => e.id,
      event: () => 'log',
      keep: (e) => q.attempt === undefined || e.attempt === q.attempt,
    }));
  };

  return {
    health: async () => ok({ status: 'ok' }),
    ready: async () => {
      try {
        await store.ping();
      } catch {
        throw new ApiError('unavailable', 'the store does not answer');
      }
      if (!(await isReady())) throw new ApiError('unavailable', 'the server is not ready yet');
      return ok({ status: 'ok' });
    },
    metrics: async ({ reply }) => {
      // Declared always, so the API document is the same whichever process serves it.
      if (!metrics) throw new ApiError('not_found', 'this server keeps no metrics');
      const m = await metrics();
      reply.header('content-type', m.contentType);
      return ok(m.body);
    },
    submit: async ({ body, reply, req }) => {
      if (!(body instanceof BodyText)) {
        throw new ApiError('unsupported_media_type', 'send the job file as application/json or application/yaml');
      }
      const key = req.headers['idempotency-key'];
      if (Array.isArray(key)) throw new ApiError('invalid', 'the request is invalid', [{ path: 'Idempotency-Key', message: 'expected one header' }]);
      const { job, created } = await acting(req).submitJob({ text: body.text, format: body.format }, key === undefined ? {} : { idempotencyKey: key });
      reply.header('location', `/api/v1/jobs/${encodeURIComponent(job.id)}`);
      // The same key again: the job the first request made, as a 200.
      return { status: created ? 201 : 200, body: job };
    },
    listJobs: async ({ query }) => {
      const labels: Record<string, string> = {};
      for (const pair of query.label ?? []) {
        const at = pair.indexOf('=');
        labels[pair.slice(0, at)] = pair.slice(at + 1);
      }
      const { label: _label, ...rest } = query;
      return ok(await service.listJobs({ ...rest, labels }));
    },
    getJob: async ({ params }) => ok(await service.getJob(params.id)),
    cancel: async ({ params, req }) => ok(await acting(req).cancel(params.id)),
    retry: async ({ params, req }) => ok(await acting(req).retry(params.id)),
    jobLogs: async ({ params, query, req, reply }) => {
      const { task, ...q } = query;
      return logs(req, reply, params.id, task, q);
    },
    taskLogs: async ({ params, query, req, reply }) => logs(req, reply, params.id, params.task, query),
    events: async ({ query, req, reply }) => {
      const after = lastEventId(req) ?? query.after;
      const jobId = query.job;
      if (jobId !== undefined) await service.getJob(jobId); // a 404 before the stream starts
      return sendSse<WharfEvent>(req, reply, sse, (signal) => ({
        gen: service.followEvents({ signal, ...(after === undefined ? {} : { after }), ...(jobId === undefined ? {} : { jobId }) }),
        id: (e) => e.id,
        event: (e) => e.type,
      }));
    },
    createToken: async ({ body, req }) => ({ status: 201, body: await acting(req).createToken(body as CreateTokenRequest) }),
    listTokens: async ({ req }) => ok({ tokens: await acting(req).listTokens() }),
    revokeToken: async ({ params, req }) => ok(await acting(req).revokeToken(params.id)),
    listSecrets: async ({ req }) => ok({ secrets: await acting(req).listSecrets() }),
    setSecret: async ({ params, body, req }) => ok(await acting(req).setSecret(params.name, (body as { value: string }).value)),
    deleteSecret: async ({ params, req }) => {
      await acting(req).deleteSecret(params.name);
      return { status: 204, body: undefined };
    },
    audit: async ({ query, req }) => ok(await acting(req).listAudit(query)),
    listWorkers: async () => ok(await service.listWorkers()),
    openapi: async () => ok((openapi ??= openApiDocument(ROUTES))),
    jobSchema: async () => ok((jobDoc ??= jobJsonSchema())),
  };
}
