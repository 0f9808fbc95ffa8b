// The OpenAPI 3.1 document, generated from the route table's zod schemas (JSON Schema 2020-12,
// which OpenAPI 3.1 uses as is). Named shapes become components; nothing is written twice.
import { z } from 'zod';
import {
  attemptViewSchema, errorBodySchema, eventSchema, jobListSchema, jobSummarySchema, jobViewSchema,
  logEntrySchema, logPageSchema, outcomeSchema, statusSchema, taskViewSchema,
} from '../spec/api.js';
import { jobSchema } from '../spec/schema.js';
import {
  auditEntrySchema, auditPageSchema, createdTokenSchema, createTokenBodySchema, secretInfoSchema, secretListSchema,
  setSecretAnswerSchema, setSecretBodySchema, tokenInfoSchema, tokenListSchema,
} from '../spec/admin-api.js';
import { workerListSchema, workerViewSchema } from '../spec/workers-api.js';
import { responsesOf, type ResponseSpec, type RouteSpec } from './routes.js';

type Json = Record<string, unknown>;

/** Shapes documented once under components/schemas and referenced everywhere else. */
const COMPONENTS: ReadonlyArray<[string, z.ZodType]> = [
  ['JobSpec', jobSchema], ['Outcome', outcomeSchema], ['Attempt', attemptViewSchema], ['Task', taskViewSchema],
  ['JobSummary', jobSummarySchema], ['Job', jobViewSchema], ['JobList', jobListSchema], ['LogEntry', logEntrySchema],
  ['LogPage', logPageSchema], ['Event', eventSchema], ['Error', errorBodySchema], ['Status', statusSchema],
  ['TokenInfo', tokenInfoSchema], ['CreatedToken', createdTokenSchema], ['TokenList', tokenListSchema],
  ['CreateToken', createTokenBodySchema], ['SecretInfo', secretInfoSchema], ['SecretList', secretListSchema],
  ['SetSecret', setSecretBodySchema], ['SecretSet', setSecretAnswerSchema], ['AuditEntry', auditEntrySchema],
  ['AuditPage', auditPageSchema], ['Worker', workerViewSchema], ['WorkerList', workerListSchema],
];

const REF = (id: string): string => `#/components/schemas/${id}`;

function components(): Json {
  const reg = z.registry<{ id: string }>();
  for (const [id, s] of COMPONENTS) reg.add(s, { id });
  const out = z.toJSONSchema(reg, { uri: REF }).schemas;
  const schemas: Json = {};
  for (const [id, s] of Object.entries(out)) {
    // $id/$schema belong to standalone documents, not to schemas inside one.
    const { $id: _id, $schema: _schema, ...rest } = s;
    schemas[id] = rest;
  }
  return schemas;
}

function schemaOf(s: z.ZodType, io: 'input' | 'output' = 'output'): Json {
  const named = COMPONENTS.find(([, c]) => c === s);
  if (named) return { $ref: REF(named[0]) };
  const { $schema: _schema, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' });
  return rest;
}

function parameters(r: RouteSpec): Json[] {
  const out: Json[] = [];
  const add = (where: 'path' | 'query', obj: z.ZodObject | undefined): void => {
    for (const [name, field] of Object.entries<z.ZodType>(obj?.shape ?? {})) {
      const { description, ...schema } = schemaOf(field, 'input');
      const p: Json = { name, in: where, required: where === 'path' || !field.safeParse(undefined).success, schema };
      if (typeof description === 'string') p.description = description;
      out.push(p);
    }
  };
  add('path', r.params);
  add('query', r.query);
  if (Object.values(r.responses).some((x: ResponseSpec) => x.sse)) {
    out.push({
      name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'integer', minimum: 0 },
      description: 'Resume an event stream after this id (takes precedence over `after`).',
    });
  }
  return out;
}

function response(x: ResponseSpec): Json {
  const content: Json = {};
  if (x.json) content['application/json'] = { schema: schemaOf(x.json) };
  if (x.text) content[x.text] = { schema: { type: 'string' } };
  if (x.sse) {
    content['text/event-stream'] = {
      schema: { type: 'string', description: 'Events of `id`, `event` and `data` lines; `data` is JSON as in x-event-data.' },
      'x-event-data': schemaOf(x.sse),
    };
  }
  return { description: x.description, content };
}

/** Fastify's `:name` path segments in OpenAPI's `{name}` form. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

export function openApiDocument(routes: Readonly<Record<string, RouteSpec>>): Json {
  const paths: Record<string, Json> = {};
  for (const [name, r] of Object.entries(routes)) {
    const op: Json = { operationId: name, summary: r.summary };
    const params = parameters(r);
    if (params.length > 0) op.parameters = params;
    if (r.body) {
      const schema = schemaOf(r.body.schema);
      op.requestBody = { required: true, content: Object.fromEntries(r.body.contentTypes.map((t) => [t, { schema }])) };
    }
    const responses: Json = {};
    for (const [status, x] of Object.entries(responsesOf(r))) responses[status] = response(x);
    op.responses = responses;
    const path = openApiPath(r.url);
    paths[path] = { ...paths[path], [r.method.toLowerCase()]: op };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Wharf',
      version: '1.0.0',
      description: 'Run tasks in containers. Errors always answer {"error":{"code","message","details"}}.',
    },
    paths,
    components: { schemas: components() },
  };
}
