// Seals secret values with AES-256-GCM for storage. The sealed text is
//   v1:<key id>:<iv>:<tag>:<ciphertext>      (iv, tag and ciphertext in base64)
// with a random 12-byte IV per seal and the secret's name bound as additional authenticated
// data, so a sealed value copied to another name does not open. The key id (an HMAC of a fixed
// label under the key, 12 hex digits) tells "sealed under another key" apart from tampering and
// lets a store find rows a rotated key cannot open; it reveals nothing usable about the key.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { SecretDecryptError, SecretKeyError } from './errors.js';

export const SECRET_KEY_BYTES = 32;
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The id of a key, as written into the values it seals. */
export function secretKeyId(key: Buffer): string {
  return createHmac('sha256', key).update('wharf secret key id').digest('hex').slice(0, 12);
}

export class SecretBox {
  // A private field: util.inspect, JSON.stringify and String() never show it.
  readonly #key: Buffer;
  readonly keyId: string;

  constructor(key: Buffer) {
    if (key.length !== SECRET_KEY_BYTES) {
      throw new SecretKeyError('secret key', `expected ${SECRET_KEY_BYTES} bytes, got ${key.length}`);
    }
    this.#key = Buffer.from(key);
    this.keyId = secretKeyId(this.#key);
  }

  /** The sealed form of `plaintext`, bound to `name`; different on every call. */
  seal(name: string, plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(name));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.keyId, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ct.toString('base64')].join(':');
  }

  /** The plaintext sealed under `name`; a SecretDecryptError on another key, name or any change. */
  open(name: string, sealed: string): string {
    const parts = parseSealed(sealed);
    if (parts === undefined) {
      throw new SecretDecryptError(name, 'malformed', `the stored value is not in the ${VERSION} sealed format (${VERSION}:<key id>:<iv>:<tag>:<ciphertext>)`);
    }
    const wrong = (why: string): SecretDecryptError => new SecretDecryptError(name, 'wrong_key_or_tampered', `wrong key or tampered (${why})`);
    if (parts.keyId !== this.keyId) {
      throw wrong(`it was sealed under key id ${parts.keyId}, the current key's id is ${this.keyId}: was WHARF_SECRET_KEY or the key file changed?`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, parts.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(name));
      decipher.setAuthTag(parts.tag);
      return Buffer.concat([decipher.update(parts.ct), decipher.final()]).toString('utf8');
    } catch {
      throw wrong('the stored value was changed, or it was sealed for another secret name');
    }
  }

  /** The key id a sealed value names, if it is in a known format (for finding rows to re-seal). */
  static keyIdOf(sealed: string): string | undefined {
    return parseSealed(sealed)?.keyId;
  }
}

function aad(name: string): Buffer {
  return Buffer.from(`wharf secret ${VERSION}\0${name}`, 'utf8');
}

function parseSealed(sealed: string): { keyId: string; iv: Buffer; tag: Buffer; ct: Buffer } | undefined {
  const parts = sealed.split(':');
  if (parts.length !== 5 || parts[0] !== VERSION) return undefined;
  const [, keyId = '', iv = '', tag = '', ct = ''] = parts;
  if (!/^[0-9a-f]{12}$/.test(keyId) || ![iv, tag, ct].every((p) => B64.test(p) && p.length % 4 === 0)) return undefined;
  const out = { keyId, iv: Buffer.from(iv, 'base64'), tag: Buffer.from(tag, 'base64'), ct: Buffer.from(ct, 'base64') };
  return out.iv.length === IV_BYTES && out.tag.length === TAG_BYTES ? out : undefined;
}
