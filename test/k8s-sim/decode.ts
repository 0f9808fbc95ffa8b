// Decoding a request body as the API server does: type/version check, unknown fields dropped with a
// warning (or refused under fieldValidation=Strict), then the official schema (kubernetes-models).
// Type mismatches are decode errors (400 "… cannot be handled as a Pod: json: cannot unmarshal …");
// missing required fields and enum violations are validation errors (422 causes).
import { Pod } from 'kubernetes-models/v1/Pod';
import { Secret } from 'kubernetes-models/v1/Secret';
import { SelfSubjectAccessReview } from 'kubernetes-models/authorization.k8s.io/v1/SelfSubjectAccessReview';
import { DeleteOptions } from '@kubernetes-models/apimachinery/apis/meta/v1/DeleteOptions';
import { fieldInfo, pruneUnknown } from './schema.js';
import { StatusError, badRequest, fieldError, type FieldError } from './status.js';
import { clone, isObject, type JsonObject } from './wire.js';

export interface KindSpec {
  kind: 'Pod' | 'Secret' | 'SelfSubjectAccessReview' | 'DeleteOptions';
  apiVersion: string;
  /** client-node model name of the root type. */
  model: string;
  validate(data: JsonObject): void;
}

function validator<T>(Ctor: new (data: T) => { validate(): void }): (data: JsonObject) => void {
  return (data) => { new Ctor(data as unknown as T).validate(); };
}

export const KINDS = {
  Pod: { kind: 'Pod', apiVersion: 'v1', model: 'V1Pod', validate: validator(Pod) },
  Secret: { kind: 'Secret', apiVersion: 'v1', model: 'V1Secret', validate: validator(Secret) },
  SelfSubjectAccessReview: { kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', model: 'V1SelfSubjectAccessReview', validate: validator(SelfSubjectAccessReview) },
  DeleteOptions: { kind: 'DeleteOptions', apiVersion: 'v1', model: 'V1DeleteOptions', validate: validator(DeleteOptions) },
} satisfies Record<string, KindSpec>;

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface Decoded {
  obj: JsonObject;
  warnings: string[];
  /** Schema findings that are validation (422) errors, not decode errors. */
  fieldErrors: FieldError[];
}

interface AjvError { instancePath: string; keyword: string; params: Record<string, unknown>; message?: string }

function ajvErrors(e: unknown): AjvError[] {
  const errs = isObject(e) || e instanceof Error ? (e as { errors?: unknown }).errors : undefined;
  return Array.isArray(errs) ? (errs as AjvError[]) : [];
}

const QUANTITY = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

function valueAt(obj: JsonObject, instancePath: string): unknown {
  let cur: unknown = obj;
  for (const seg of instancePath.split('/').slice(1)) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isObject(cur)) cur = cur[seg];
    else return undefined;
  }
  return cur;
}

/** Go's base64 CorruptInputError offset for a string that is not standard base64. */
function base64ErrorOffset(s: string): number {
  const bad = s.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) return bad;
  const pad = s.indexOf('=');
  if (pad >= 0 && pad < s.length - 2) return pad;
  return Math.floor(s.length / 4) * 4;
}

export function decodeBody(spec: KindSpec, body: unknown, mode: FieldValidation = 'Warn'): Decoded {
  const cannot = (why: string): StatusError =>
    new StatusError(badRequest(`${spec.kind} in version "${spec.apiVersion.split('/').pop() ?? ''}" cannot be handled as a ${spec.kind}: ${why}`));
  if (!isObject(body)) throw new StatusError(badRequest(`couldn't get version/kind; json parse error: json: cannot unmarshal ${jsonKind(body)} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`));
  const obj = clone(body);
  if (typeof obj.apiVersion === 'string' && obj.apiVersion !== spec.apiVersion) {
    throw new StatusError(badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${spec.apiVersion})`));
  }
  if (typeof obj.kind === 'string' && obj.kind !== spec.kind) {
    throw cannot(`the kind in the data (${obj.kind}) does not match the expected kind (${spec.kind})`);
  }
  obj.apiVersion = spec.apiVersion;
  obj.kind = spec.kind;
  const unknown = pruneUnknown(obj, spec.model);
  if (mode === 'Strict' && unknown.length > 0) throw cannot(`strict decoding error: ${unknown.join(', ')}`);
  const warnings = mode === 'Warn' ? unknown : [];
  const fieldErrors: FieldError[] = [];
  try {
    spec.validate(obj);
  } catch (e) {
    const errs = ajvErrors(e);
    if (errs.length === 0) throw e;
    const quantityPaths = new Set(errs.filter((x) => x.params['format'] === 'quantity').map((x) => x.instancePath));
    for (const q of quantityPaths) {
      const v = valueAt(obj, q);
      if (typeof v === 'string' || typeof v === 'number') throw cannot(QUANTITY);
    }
    for (const x of errs) {
      const info = fieldInfo(spec.model, x.instancePath);
      if (x.keyword === 'type' || (quantityPaths.has(x.instancePath) && x.keyword !== 'required')) {
        const v = valueAt(obj, x.instancePath);
        throw cannot(`json: cannot unmarshal ${jsonKind(v)} into Go struct field ${info.goStruct}.${info.jsonField} of type ${info.goType}`);
      }
      if (x.keyword === 'format' && x.params['format'] === 'byte') {
        const v = valueAt(obj, x.instancePath);
        throw cannot(`illegal base64 data at input byte ${base64ErrorOffset(typeof v === 'string' ? v : '')}`);
      }
      if (x.keyword === 'required') {
        const missing = String(x.params['missingProperty'] ?? '');
        fieldErrors.push(fieldError.required(info.field ? `${info.field}.${missing}` : missing));
      } else if (x.keyword === 'enum') {
        const allowed = Array.isArray(x.params['allowedValues']) ? (x.params['allowedValues'] as unknown[]).map(String) : [];
        fieldErrors.push(fieldError.notSupported(info.field, valueAt(obj, x.instancePath), allowed));
      } else if (x.keyword !== 'oneOf' && x.keyword !== 'anyOf') {
        fieldErrors.push(fieldError.invalid(info.field, valueAt(obj, x.instancePath), x.message ?? x.keyword));
      }
    }
  }
  return { obj, warnings, fieldErrors };
}

/** The Warning header values for these warnings (`299 - "unknown field \"spec.foo\""`). */
export function warningHeader(warnings: string[]): string[] {
  return warnings.map((w) => `299 - ${JSON.stringify(w)}`);
}
