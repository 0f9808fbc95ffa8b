// metav1.Status bodies exactly as apimachinery's errors.go builds them (see k8s-reference/errors/).
// Key order is Status's struct order; details.kind is the resource plural except for Invalid (the Kind).
import type { Status } from './types.js';

export type Cause = { reason?: string; message?: string; field?: string };
type Details = { name?: string; group?: string; kind?: string; uid?: string; causes?: Cause[]; retryAfterSeconds?: number };

/** A Status the server answers with; thrown by handlers, written by the dispatcher. */
export class StatusError extends Error {
  constructor(readonly status: Status, readonly headers: Record<string, string> = {}) {
    super(status.message ?? `HTTP ${status.code ?? 500}`);
    this.name = 'StatusError';
  }
  get code(): number { return this.status.code ?? 500; }
}

export function failure(code: number, reason: string, message: string, details?: Details): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason };
  if (details) s.details = orderDetails(details);
  s.code = code;
  return s;
}

function orderDetails(d: Details): Details {
  const out: Details = {};
  if (d.name !== undefined) out.name = d.name;
  if (d.group) out.group = d.group;
  if (d.kind !== undefined) out.kind = d.kind;
  if (d.uid !== undefined) out.uid = d.uid;
  if (d.causes) out.causes = d.causes;
  if (d.retryAfterSeconds) out.retryAfterSeconds = d.retryAfterSeconds;
  return out;
}

export function success(details: Details): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: orderDetails(details) };
}

function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export function notFound(resource: string, name: string, group = ''): Status {
  return failure(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, { name, group, kind: resource });
}

export function alreadyExists(resource: string, name: string, group = ''): Status {
  return failure(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, { name, group, kind: resource });
}

export function conflict(resource: string, name: string, err: string): Status {
  return failure(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": ${err}`, { name, kind: resource });
}

/** 403: `<resource>[ "<name>"] is forbidden: <why>`. */
export function forbidden(resource: string, name: string | undefined, why: string, group = ''): Status {
  const q = qualified(resource, group);
  const head = name ? `${q} "${name}"` : q;
  const details: Details = { group, kind: resource };
  if (name) details.name = name;
  return failure(403, 'Forbidden', `${head} is forbidden: ${why}`, details);
}

export function badRequest(message: string): Status {
  return failure(400, 'BadRequest', message);
}

export function expired(message: string): Status {
  return failure(410, 'Expired', message);
}

export function internalError(err: string): Status {
  return failure(500, 'InternalError', `Internal error occurred: ${err}`, { causes: [{ message: err }] });
}

export function unauthorized(): Status {
  return failure(401, 'Unauthorized', 'Unauthorized');
}

export function serviceUnavailable(message: string): Status {
  return failure(503, 'ServiceUnavailable', message);
}

export function methodNotAllowed(): Status {
  return failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

export function resourceNotFound(): Status {
  return failure(404, 'NotFound', 'the server could not find the requested resource', {});
}

/** field.Error: the validation error of one field, as pkg/util/validation/field formats it. */
export interface FieldError {
  type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueDuplicate'
    | 'FieldValueForbidden' | 'FieldValueTooLong' | 'FieldValueNotFound';
  field: string;
  /** ErrorBody(): `Required value`, `Invalid value: "x": detail`, … */
  body: string;
}

/** Go's %v/%q of a bad value inside an ErrorBody: strings quoted, numbers and booleans bare. */
function showValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

export const fieldError = {
  required: (field: string, detail = ''): FieldError =>
    ({ type: 'FieldValueRequired', field, body: detail ? `Required value: ${detail}` : 'Required value' }),
  invalid: (field: string, value: unknown, detail: string): FieldError =>
    ({ type: 'FieldValueInvalid', field, body: `Invalid value: ${showValue(value)}${detail ? `: ${detail}` : ''}` }),
  notSupported: (field: string, value: unknown, supported: string[]): FieldError =>
    ({ type: 'FieldValueNotSupported', field, body: `Unsupported value: ${showValue(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` }),
  duplicate: (field: string, value: unknown): FieldError =>
    ({ type: 'FieldValueDuplicate', field, body: `Duplicate value: ${showValue(value)}` }),
  forbidden: (field: string, detail: string): FieldError =>
    ({ type: 'FieldValueForbidden', field, body: `Forbidden: ${detail}` }),
  notFound: (field: string, value: unknown): FieldError =>
    ({ type: 'FieldValueNotFound', field, body: `Not found: ${showValue(value)}` }),
};

/** 422: `<Kind> "<name>" is invalid: <one error>` or `[e1, e2]` (util/errors aggregate, duplicates dropped). */
export function invalid(kind: string, name: string, errs: FieldError[], group = ''): Status {
  const texts = [...new Set(errs.map((e) => `${e.field}: ${e.body}`))];
  const tail = texts.length === 1 ? texts[0] ?? '' : `[${texts.join(', ')}]`;
  const q = group ? `${kind}.${group}` : kind;
  return failure(422, 'Invalid', `${q} "${name}" is invalid: ${tail}`, {
    name, group, kind,
    causes: errs.map((e) => ({ reason: e.type, message: e.body, field: e.field })),
  });
}
