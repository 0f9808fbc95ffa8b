// One error shape for every answer that is not a success, Fastify's own refusals included.
// 5xx answers hide what broke; the log keeps it.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ApiError } from '../client/types.js';
import type { ErrorBody, ErrorDetail } from '../spec/api.js';
import { formatPath } from '../spec/errors.js';
import { JSON_TYPES, YAML_TYPES } from './routes.js';

export function errorBody(e: ApiError): ErrorBody {
  return { error: { code: e.code, message: e.message, details: e.details } };
}

/** Each zod issue as one detail, an unknown key as one detail per key. */
export function zodDetails(e: z.ZodError, prefix: readonly PropertyKey[] = [], unknown = 'unknown parameter'): ErrorDetail[] {
  return e.issues.flatMap((i): ErrorDetail[] => {
    const base = [...prefix, ...i.path];
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => ({ path: formatPath([...base, k]), message: unknown }));
    }
    return [{ path: formatPath(base), message: i.message }];
  });
}

/** An ApiError for anything a request can be refused with; undefined for a fault of ours. */
export function toApiError(e: unknown, req: FastifyRequest, bodyLimit: number): ApiError | undefined {
  if (e instanceof ApiError) return e;
  if (!isFastifyError(e)) return undefined;
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const ct = req.headers['content-type'];
      const what = ct ? `content type "${ct}" is not supported` : 'the request has a body but no content type';
      return new ApiError('unsupported_media_type', `${what}; send ${[...JSON_TYPES, ...YAML_TYPES].join(' or ')}`);
    }
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('payload_too_large', `the request body is larger than ${bodyLimit} bytes`);
    case 'FST_ERR_BAD_URL':
      return new ApiError('invalid', `the path ${JSON.stringify(pathOf(req))} is not valid: each "%" must begin an escape such as %20, decoding to UTF-8`);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ApiError('invalid', `a segment of the path ${JSON.stringify(pathOf(req))} is too long to name anything`, [], 414);
    default:
      break;
  }
  const status = e.statusCode ?? 500;
  if (status >= 500 || status < 400) return undefined;
  switch (status) {
    case 404: return new ApiError('not_found', e.message);
    case 413: return new ApiError('payload_too_large', e.message);
    case 415: return new ApiError('unsupported_media_type', e.message);
    default: return new ApiError('invalid', e.message, [], status);
  }
}

function isFastifyError(e: unknown): e is FastifyError {
  return e instanceof Error && typeof (e as Partial<FastifyError>).code === 'string';
}

function pathOf(req: FastifyRequest): string {
  return req.url.split('?')[0] ?? req.url;
}

/** Answers an error in the one shape; one of ours is logged and hidden behind a 500. */
export function sendError(e: unknown, req: FastifyRequest, reply: FastifyReply, bodyLimit: number): FastifyReply {
  const api = toApiError(e, req, bodyLimit);
  if (api) return reply.code(api.status).send(errorBody(api));
  req.log.error({ err: e }, 'request failed');
  return reply.code(500).send(errorBody(new ApiError('internal', 'internal error')));
}

export function installErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((e, req, reply) => sendError(e, req, reply, bodyLimit));
  app.setNotFoundHandler((req, reply) => {
    const e = new ApiError('not_found', `no route ${req.method} ${pathOf(req)}`);
    return reply.code(404).send(errorBody(e));
  });
}
