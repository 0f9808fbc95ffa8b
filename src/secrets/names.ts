// What a secret may be called and hold. A name doubles as an environment variable name; a value
// must be long enough for the log redactor to mask it, and storable as text.
import { MIN_SECRET_LENGTH } from '../core/redact.js';
import { SecretNameError, SecretValueError } from './errors.js';

export const MAX_SECRET_NAME_LENGTH = 128;
/** Bounds what the log redactor holds back per stream (about 4/3 of this, base64-encoded). */
export const MAX_SECRET_VALUE_BYTES = 64 * 1024;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The name, if it is a valid secret name; else a SecretNameError naming `field`. */
export function parseSecretName(name: unknown, field = 'name'): string {
  const expected = `expected a letter or "_", then letters, digits or "_", at most ${MAX_SECRET_NAME_LENGTH} characters (it is used as an environment variable name)`;
  if (typeof name !== 'string') throw new SecretNameError(field, `a secret name must be a string, got ${name === null ? 'null' : typeof name}`);
  if (name === '') throw new SecretNameError(field, `a secret name cannot be empty; ${expected}`);
  if (name.length > MAX_SECRET_NAME_LENGTH) {
    throw new SecretNameError(field, `a secret name is at most ${MAX_SECRET_NAME_LENGTH} characters, got ${name.length}`);
  }
  if (!NAME.test(name)) {
    const at = /^[0-9]/.test(name) ? 0 : [...name].findIndex((c) => !/[A-Za-z0-9_]/.test(c));
    const bad = [...name][Math.max(0, at)] ?? '';
    throw new SecretNameError(field, `${JSON.stringify(name)} is not a valid secret name (${JSON.stringify(bad)} at position ${Math.max(0, at) + 1}); ${expected}`);
  }
  return name;
}

/** The value, if it can be stored and masked; else a SecretValueError that never shows it. */
export function parseSecretValue(name: string, value: unknown): string {
  if (typeof value !== 'string') throw new SecretValueError(name, `the value must be a string, got ${value === null ? 'null' : typeof value}`);
  if (value.length < MIN_SECRET_LENGTH) {
    throw new SecretValueError(name, `the value is ${value.length} character(s); at least ${MIN_SECRET_LENGTH} are needed so that it can be masked in logs`);
  }
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_SECRET_VALUE_BYTES) {
    throw new SecretValueError(name, `the value is ${bytes} bytes; at most ${MAX_SECRET_VALUE_BYTES} are allowed`);
  }
  if (value.includes('\0')) throw new SecretValueError(name, 'the value contains a NUL character, which an environment variable cannot hold');
  if (LONE_SURROGATE.test(value)) throw new SecretValueError(name, 'the value is not valid Unicode text (it has a lone surrogate)');
  return value;
}
