// apimachinery/pkg/util/validation: names, labels and annotations, with the exact messages
// (RegexError's examples are joined with ",  or " — two spaces — in the real text).
import { fieldError, type FieldError } from './status.js';

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const QUALIFIED_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE = `(${QUALIFIED_NAME})?`;
const ENV_VAR_NAME = '[-._a-zA-Z][-._a-zA-Z0-9]*';
const CONFIG_KEY = '[-._a-zA-Z0-9]+';

function full(re: string): RegExp {
  return new RegExp(`^${re}$`);
}

function regexError(msg: string, re: string, examples: string[]): string {
  const eg = examples.length ? ` (e.g. ${examples.map((e) => `'${e}'`).join(',  or ')}, regex used for validation is '${re}')` : ` (regex used for validation is '${re}')`;
  return msg + eg;
}

const maxLen = (n: number): string => `must be no more than ${n} characters`;

export function dns1123Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLen(63));
  if (!full(DNS1123_LABEL).test(v)) {
    errs.push(regexError("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", DNS1123_LABEL, ['my-name', '123-abc']));
  }
  return errs;
}

export function dns1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push(maxLen(253));
  if (!full(DNS1123_SUBDOMAIN).test(v)) {
    errs.push(regexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", DNS1123_SUBDOMAIN, ['example.com']));
  }
  return errs;
}

const QUALIFIED_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

export function qualifiedName(v: string): string[] {
  const parts = v.split('/');
  let name = v;
  const errs: string[] = [];
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...dns1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else if (parts.length > 2) {
    return [regexError(`a qualified name ${QUALIFIED_MSG}`, QUALIFIED_NAME, ['MyName', 'my.name', '123-abc']) + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push(`name part ${maxLen(63)}`);
  if (name.length > 0 && !full(QUALIFIED_NAME).test(name)) {
    errs.push(regexError(`name part ${QUALIFIED_MSG}`, QUALIFIED_NAME, ['MyName', 'my.name', '123-abc']));
  }
  return errs;
}

export function labelValue(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLen(63));
  if (!full(LABEL_VALUE).test(v)) {
    errs.push(regexError(`a valid label must be an empty string or ${QUALIFIED_MSG}`, LABEL_VALUE, ['MyValue', 'my_value', '12345']));
  }
  return errs;
}

export function envVarName(v: string): string[] {
  if (full(ENV_VAR_NAME).test(v)) return [];
  return [regexError("a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit", ENV_VAR_NAME, ['my.env-name', 'MY_ENV.NAME', 'MyEnvName1'])];
}

export function configKey(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push(maxLen(253));
  if (!full(CONFIG_KEY).test(v)) errs.push(regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", CONFIG_KEY, ['key.name', 'KEY_NAME', 'key-name']));
  return errs;
}

export interface MetaLike {
  name?: string;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** ValidateObjectMeta for a namespaced object whose name is a DNS subdomain (pods, secrets). */
export function validateObjectMeta(meta: MetaLike): FieldError[] {
  const errs: FieldError[] = [];
  if (meta.generateName) {
    // generateName is checked as a prefix: a trailing '-' is allowed
    const prefix = meta.generateName.replace(/-$/, 'a');
    for (const m of dns1123Subdomain(prefix)) errs.push(fieldError.invalid('metadata.generateName', meta.generateName, m));
  }
  if (!meta.name) errs.push(fieldError.required('metadata.name', 'name or generateName is required'));
  else for (const m of dns1123Subdomain(meta.name)) errs.push(fieldError.invalid('metadata.name', meta.name, m));
  for (const [k, v] of Object.entries(meta.labels ?? {})) {
    for (const m of qualifiedName(k)) errs.push(fieldError.invalid('metadata.labels', k, m));
    for (const m of labelValue(v)) errs.push(fieldError.invalid('metadata.labels', v, m));
  }
  let size = 0;
  for (const [k, v] of Object.entries(meta.annotations ?? {})) {
    for (const m of qualifiedName(k.toLowerCase())) errs.push(fieldError.invalid('metadata.annotations', k, m));
    size += k.length + v.length;
  }
  if (size > 256 * 1024) errs.push({ type: 'FieldValueTooLong', field: 'metadata.annotations', body: 'Too long: may not be more than 262144 bytes' });
  return errs;
}

/** The 5 random characters apiserver appends to generateName (SimpleNameGenerator's alphabet). */
export function generateSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (let i = 0; i < 5; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  return s;
}
