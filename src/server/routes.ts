// The route table: every route's method, path, and zod schemas for its params, query, body and
// each status it answers. The server validates requests with it, openapi.ts documents it, and
// the tests check real answers against it. Pure data: handlers live in handlers.ts.
import { z } from 'zod';
import { JOB_STATES } from '../core/states.js';
import {
  errorBodySchema, eventSchema, jobListSchema, jobViewSchema, logEntrySchema, logPageSchema, statusSchema,
} from '../spec/api.js';
import { jobSchema } from '../spec/schema.js';
import {
  auditPageSchema, createdTokenSchema, createTokenBodySchema, secretListSchema, setSecretAnswerSchema, setSecretBodySchema,
  tokenInfoSchema, tokenListSchema,
} from '../spec/admin-api.js';
import { AUDIT_LIMIT } from '../api/admin.js';
import { workerListSchema } from '../spec/workers-api.js';
import { LIST_LIMIT, LOG_LIMIT } from '../api/service.js';

export interface ResponseSpec {
  description: string;
  /** The JSON body. */
  json?: z.ZodType;
  /** Server-Sent Events: the `data` of each event. */
  sse?: z.ZodType;
  /** A text body of this content type. */
  text?: string;
}

export interface BodySpec {
  schema: z.ZodType;
  contentTypes: readonly string[];
  /** A JSON body the app parses and checks against `schema` (else the handler gets the text: job files). */
  parsed?: true;
}

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Fastify syntax (`:id`). */
  url: string;
  summary: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: BodySpec;
  responses: Readonly<Record<number, ResponseSpec>>;
}

export const JSON_TYPES = ['application/json'] as const;
export const METRICS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'] as const;

const err = (description: string): ResponseSpec => ({ description, json: errorBodySchema });
const E400 = err('The request is invalid; `details` lists every problem.');
const E404 = err('No such job (or task).');

/** Whole numbers in a query string; with `max`, from 1 to max. */
const uint = (max?: number) => {
  const msg = max === undefined ? 'expected a whole number' : `expected a whole number from 1 to ${max}`;
  const n = z.coerce.number({ error: msg }).int({ error: msg });
  return max === undefined ? n.min(0, { error: msg }) : n.min(1, { error: msg }).max(max, { error: msg });
};
const flag = z.enum(['true', 'false', '1', '0'], { error: 'expected true or false' });

/** A parameter given twice arrives as a list. */
const ONE = 'expected one value, not a list (the parameter is given more than once)';
/** One non-empty text value. */
const text = (what: string) => z.string({ error: ONE }).min(1, { error: `expected ${what}` });

const jobParams = z.strictObject({ id: text('a job id') });
const tokenParams = z.strictObject({ id: text('a token id') });
const secretParams = z.strictObject({ name: text('a secret name') });
const E401 = err('No credentials, or ones that are not valid (a token, or an OIDC JWT).');
const E403 = err('The credentials lack the scope this route needs.');
const jsonBody = (schema: z.ZodType): BodySpec => ({ schema, contentTypes: JSON_TYPES, parsed: true });
const taskParams = z.strictObject({ id: text('a job id'), task: text('a task name') });

export const listQuery = z.strictObject({
  state: z.enum(JOB_STATES, { error: `expected one of ${JOB_STATES.join(', ')}` }).optional()
    .meta({ description: 'Only jobs in this state.' }),
  label: z.array(z.string().regex(/^[^=]+=/, { error: 'expected key=value' })).optional()
    .meta({ description: 'Only jobs with this label (key=value); repeat to require several.' }),
  cursor: z.string({ error: ONE }).optional().meta({ description: 'nextCursor of the previous page.' }),
  limit: uint(LIST_LIMIT.max).optional().meta({ description: `Jobs per page (default ${LIST_LIMIT.default}).` }),
});

const logFields = {
  attempt: uint().optional().meta({ description: 'Only this attempt (all attempts in order when omitted).' }),
  after: uint().optional().meta({ description: 'Entries with a greater id (resume point).' }),
  limit: uint(LOG_LIMIT.max).optional().meta({ description: `Entries per page (default ${LOG_LIMIT.default}).` }),
  follow: flag.optional().meta({ description: 'Stream as Server-Sent Events until the job (or task) ends.' }),
};
export const logsQuery = z.strictObject({
  task: text('a task name').optional().meta({ description: 'Only this task.' }),
  ...logFields,
});
export const taskLogsQuery = z.strictObject(logFields);

export const eventsQuery = z.strictObject({
  after: uint().optional().meta({ description: 'Events with a greater id (resume point; Last-Event-ID wins).' }),
  job: text('a job id').optional().meta({ description: 'Only this job; the stream ends when the job ends.' }),
});

const logsOk: ResponseSpec = {
  description: 'A page of log entries, or (follow=true or Accept: text/event-stream) an event stream of them ending with `event: end`.',
  json: logPageSchema,
  sse: logEntrySchema,
};

/** Any JSON document (the OpenAPI document, the job JSON Schema). */
const jsonDocument = z.record(z.string(), z.unknown());

export const ROUTES = {
  health: {
    method: 'GET', url: '/health', summary: 'Liveness: answers while the process runs.',
    responses: { 200: { description: 'Alive.', json: statusSchema } },
  },
  ready: {
    method: 'GET', url: '/ready', summary: 'Readiness: the store answers and the server is ready.',
    responses: { 200: { description: 'Ready.', json: statusSchema }, 503: err('Not ready.') },
  },
  metrics: {
    method: 'GET', url: '/metrics', summary: 'Prometheus metrics: the store\'s jobs, tasks and queues; this process\'s worker and runtime.',
    responses: {
      200: { description: 'The Prometheus text exposition format (0.0.4).', text: METRICS_TYPE },
      404: err('This server keeps no metrics.'),
    },
  },
  submit: {
    method: 'POST', url: '/api/v1/jobs', summary: 'Submit a job (JSON or YAML job file).',
    body: { schema: jobSchema, contentTypes: [...JSON_TYPES, ...YAML_TYPES] },
    responses: {
      201: { description: 'The job was stored.', json: jobViewSchema },
      200: { description: 'An Idempotency-Key seen before: the job that submit made.', json: jobViewSchema },
      400: E400,
      409: err('The Idempotency-Key was used for another job file.'),
      413: err('The body is larger than the limit.'),
      415: err('The content type is not JSON or YAML.'),
    },
  },
  listJobs: {
    method: 'GET', url: '/api/v1/jobs', summary: 'List jobs, newest first.',
    query: listQuery,
    responses: { 200: { description: 'A page of jobs.', json: jobListSchema }, 400: E400 },
  },
  getJob: {
    method: 'GET', url: '/api/v1/jobs/:id', summary: 'One job with its tasks and attempts.',
    params: jobParams,
    responses: { 200: { description: 'The job.', json: jobViewSchema }, 404: E404 },
  },
  cancel: {
    method: 'POST', url: '/api/v1/jobs/:id/cancel', summary: 'Cancel a job: queued work is dropped, running attempts are stopped.',
    params: jobParams,
    responses: { 200: { description: 'The job after the request.', json: jobViewSchema }, 404: E404, 409: err('The job cannot be canceled.') },
  },
  retry: {
    method: 'POST', url: '/api/v1/jobs/:id/retry', summary: 'Retry the failed, upstream_failed and canceled tasks of an ended job.',
    params: jobParams,
    responses: { 200: { description: 'The reopened job.', json: jobViewSchema }, 404: E404, 409: err('The job has not ended or has nothing to retry.') },
  },
  jobLogs: {
    method: 'GET', url: '/api/v1/jobs/:id/logs', summary: 'Log entries of a job.',
    params: jobParams, query: logsQuery,
    responses: { 200: logsOk, 400: E400, 404: E404 },
  },
  taskLogs: {
    method: 'GET', url: '/api/v1/jobs/:id/tasks/:task/logs', summary: 'Log entries of one task.',
    params: taskParams, query: taskLogsQuery,
    responses: { 200: logsOk, 400: E400, 404: E404 },
  },
  events: {
    method: 'GET', url: '/api/v1/events', summary: 'State changes as Server-Sent Events (resumable with Last-Event-ID).',
    query: eventsQuery,
    responses: {
      200: { description: 'An event stream; with `job`, it ends with `event: end` when the job ends.', sse: eventSchema },
      400: E400, 404: E404,
    },
  },
  createToken: {
    method: 'POST', url: '/api/v1/tokens', summary: 'Create an API token (admin). The token is in this answer only; Wharf keeps its hash.',
    body: jsonBody(createTokenBodySchema),
    responses: { 201: { description: 'The new token, shown once.', json: createdTokenSchema }, 400: E400 },
  },
  listTokens: {
    method: 'GET', url: '/api/v1/tokens', summary: 'API tokens, newest first (admin); never their secrets.',
    responses: { 200: { description: 'The tokens.', json: tokenListSchema } },
  },
  revokeToken: {
    method: 'POST', url: '/api/v1/tokens/:id/revoke', summary: 'Revoke a token (admin): it is refused from now on.',
    params: tokenParams,
    responses: { 200: { description: 'The revoked token.', json: tokenInfoSchema }, 404: err('No such token.'), 409: err('Revoked already.') },
  },
  listSecrets: {
    method: 'GET', url: '/api/v1/secrets', summary: 'Secret names and times (admin); never their values.',
    responses: { 200: { description: 'The secrets.', json: secretListSchema } },
  },
  setSecret: {
    method: 'PUT', url: '/api/v1/secrets/:name', summary: 'Create or replace a secret (admin); stored encrypted.',
    params: secretParams, body: jsonBody(setSecretBodySchema),
    responses: { 200: { description: 'Stored.', json: setSecretAnswerSchema }, 400: E400, 503: err('The server has no secret key.') },
  },
  deleteSecret: {
    method: 'DELETE', url: '/api/v1/secrets/:name', summary: 'Delete a secret (admin).',
    params: secretParams,
    responses: { 204: { description: 'Deleted.' }, 404: err('No such secret.') },
  },
  audit: {
    method: 'GET', url: '/api/v1/audit', summary: 'The audit log, oldest first (admin): who submitted, canceled, retried, made tokens or secrets.',
    query: z.strictObject({
      after: uint().optional().meta({ description: 'Entries with a greater id.' }),
      limit: uint(AUDIT_LIMIT.max).optional().meta({ description: `Entries per page (default ${AUDIT_LIMIT.default}).` }),
    }),
    responses: { 200: { description: 'A page of entries.', json: auditPageSchema }, 400: E400 },
  },
  listWorkers: {
    method: 'GET', url: '/api/v1/workers', summary: 'Registered workers: where they run, their backends, load, and whether they are live.',
    responses: { 200: { description: 'The workers, by id.', json: workerListSchema } },
  },
  openapi: {
    method: 'GET', url: '/api/v1/openapi.json', summary: 'This document.',
    responses: { 200: { description: 'OpenAPI 3.1.', json: jsonDocument } },
  },
  jobSchema: {
    method: 'GET', url: '/api/v1/schema/job.json', summary: 'JSON Schema of the job file.',
    responses: { 200: { description: 'JSON Schema (2020-12).', json: jsonDocument } },
  },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof ROUTES;

const INTERNAL: ResponseSpec = err('Something broke inside the server (details are in its log).');

/**
 * Everything a route may answer: its own entries, plus the refusals any route of its kind can
 * get (a body on a POST may be too large, of another type or bad JSON; parameters may be bad)
 * and 500.
 */
export function responsesOf(r: RouteSpec): Readonly<Record<number, ResponseSpec>> {
  const out: Record<number, ResponseSpec> = {};
  // Fastify reads a body on every method but GET, wanted or not.
  const takesBody = r.method !== 'GET';
  if (r.params || r.query || takesBody) out[400] = E400;
  if (r.params) out[414] = err('A segment of the path is too long (over 100 characters) to name anything.');
  // With authentication on (any address but loopback, or tokens configured).
  if (r.url.startsWith('/api/')) {
    out[401] = E401;
    out[403] = E403;
  }
  if (takesBody) {
    out[413] = err('The body is larger than the limit.');
    out[415] = err('The content type is not accepted.');
  }
  return { ...out, ...r.responses, 500: INTERNAL };
}
