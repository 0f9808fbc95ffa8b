// Secret create: stringData folded into data, type defaulted to Opaque, ValidateSecret's rules
// (key syntax, size, the keys each well-known type requires, dockerconfigjson parses as JSON).
import { fieldError, type FieldError } from './status.js';
import type { Secret } from './types.js';
import { configKey, validateObjectMeta } from './validation.js';

const REDACTED = '<secret contents redacted>';

/** encoding/json's complaint about a document, roughly as Go words it. */
function goJsonError(text: string): string | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    const t = text.trim();
    if (t === '') return 'unexpected end of JSON input';
    return `invalid character '${t[0] ?? ''}' looking for beginning of value`;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    const kind = Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
    return kind === 'null' ? undefined : `json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`;
  }
  return undefined;
}

function requireKey(data: Record<string, string>, k: string, errs: FieldError[]): string | undefined {
  const v = data[k];
  if (v === undefined) { errs.push(fieldError.required(`data[${k}]`)); return undefined; }
  return Buffer.from(v, 'base64').toString('utf8');
}

/** Normalises the secret in place; returns its validation errors. */
export function prepareSecret(s: Secret): FieldError[] {
  s.type ??= 'Opaque';
  const data: Record<string, string> = { ...(s.data ?? {}) };
  for (const [k, v] of Object.entries(s.stringData ?? {})) data[k] = Buffer.from(v, 'utf8').toString('base64');
  delete s.stringData;
  if (Object.keys(data).length > 0 || s.data) s.data = data;
  const errs = validateObjectMeta(s.metadata ?? {});
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const m of configKey(k)) errs.push(fieldError.invalid(`data[${k}]`, k, m));
    size += Buffer.from(v, 'base64').length;
  }
  if (size > 1024 * 1024) errs.push({ type: 'FieldValueTooLong', field: 'data', body: 'Too long: must have at most 1048576 bytes' });
  switch (s.type) {
    case 'kubernetes.io/dockerconfigjson':
    case 'kubernetes.io/dockercfg': {
      const k = s.type === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson';
      const text = requireKey(data, k, errs);
      const why = text === undefined ? undefined : goJsonError(text);
      if (why) errs.push(fieldError.invalid(`data[${k}]`, REDACTED, why));
      break;
    }
    case 'kubernetes.io/basic-auth':
      if (!data['username'] && !data['password']) {
        errs.push(fieldError.required('data[username]'), fieldError.required('data[password]'));
      }
      break;
    case 'kubernetes.io/ssh-auth':
      requireKey(data, 'ssh-privatekey', errs);
      break;
    case 'kubernetes.io/tls':
      requireKey(data, 'tls.key', errs);
      requireKey(data, 'tls.crt', errs);
      break;
    case 'kubernetes.io/service-account-token':
      if (!s.metadata?.annotations?.['kubernetes.io/service-account.name']) {
        errs.push(fieldError.required('metadata.annotations[kubernetes.io/service-account.name]'));
      }
      break;
    default:
      break;
  }
  return errs;
}
