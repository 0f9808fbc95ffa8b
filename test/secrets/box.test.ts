// Sealing secrets: round trips, and every way a sealed value must refuse to open, with errors
// that name the secret and never show its value or the key.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { SecretBox, SecretDecryptError, SecretKeyError, secretKeyId } from '../../src/secrets/index.js';

const VALUE = 'correct horse battery staple ☃';
const SEALED = /^v1:[0-9a-f]{12}:[A-Za-z0-9+/]{16}:[A-Za-z0-9+/]{22}==:[A-Za-z0-9+/]*={0,2}$/;

/** Everything a person or a log could see of an error. */
function shown(e: unknown): string {
  const err = e as Error;
  return [String(e), inspect(e, { depth: 5, showHidden: true }), err.stack ?? '', JSON.stringify(e)].join('\n');
}

function assertHides(e: unknown, ...hidden: string[]): void {
  const text = shown(e);
  for (const h of hidden) assert.ok(!text.includes(h), `${JSON.stringify(h)} shown in ${JSON.stringify(text)}`);
}

function decryptError(f: () => unknown, reason: SecretDecryptError['reason'], name = 'DB_PASSWORD'): SecretDecryptError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SecretDecryptError, `expected a SecretDecryptError, got ${String(caught)}`);
  assert.equal(caught.reason, reason);
  assert.equal(caught.secret, name);
  assert.ok(caught.message.startsWith(`secret "${name}" cannot be decrypted: `), caught.message);
  assertHides(caught, VALUE);
  return caught;
}

// base64 → bytes → one bit flipped at `byte` → base64.
function flip(part: string, byte: number): string {
  const b = Buffer.from(part, 'base64');
  b[byte] = (b[byte] ?? 0) ^ 0x01;
  return b.toString('base64');
}

describe('SecretBox', () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);

  it('round-trips any text, with a fresh IV on every seal', () => {
    for (const v of [VALUE, '', 'x', 'a'.repeat(70_000), '\u0000\n"\\', '𝄞 emoji 🎉']) {
      const sealed = box.seal('DB_PASSWORD', v);
      assert.match(sealed, SEALED);
      if (v.length >= 4) assert.ok(!sealed.includes(v), 'the plaintext shows through');
      assert.equal(box.open('DB_PASSWORD', sealed), v);
    }
    const a = box.seal('DB_PASSWORD', VALUE);
    const b = box.seal('DB_PASSWORD', VALUE);
    assert.notEqual(a.split(':')[2], b.split(':')[2]);
    assert.notEqual(a, b);
    assert.equal(new SecretBox(Buffer.from(key)).open('DB_PASSWORD', a), VALUE, 'another box with the same key opens it');
  });

  it('names its key by an id in every sealed value', () => {
    assert.equal(box.keyId, secretKeyId(key));
    assert.equal(SecretBox.keyIdOf(box.seal('A', VALUE)), box.keyId);
    assert.notEqual(new SecretBox(randomBytes(32)).keyId, box.keyId);
    assert.equal(SecretBox.keyIdOf('not sealed'), undefined);
  });

  it('refuses to open under another key, saying which key ids differ', () => {
    const other = new SecretBox(randomBytes(32));
    const err = decryptError(() => other.open('DB_PASSWORD', box.seal('DB_PASSWORD', VALUE)), 'wrong_key_or_tampered');
    assert.match(err.message, /wrong key or tampered/);
    assert.ok(err.message.includes(box.keyId) && err.message.includes(other.keyId), err.message);
    // The same, with the key id rewritten to the other key's: the cipher itself refuses.
    const forged = box.seal('DB_PASSWORD', VALUE).replace(box.keyId, other.keyId);
    assert.match(decryptError(() => other.open('DB_PASSWORD', forged), 'wrong_key_or_tampered').message, /wrong key or tampered/);
  });

  it('refuses a value sealed for another name (a row copied to another secret)', () => {
    const sealed = box.seal('DB_PASSWORD', VALUE);
    decryptError(() => box.open('API_TOKEN', sealed), 'wrong_key_or_tampered', 'API_TOKEN');
    decryptError(() => box.open('DB_PASSWORD_', sealed), 'wrong_key_or_tampered', 'DB_PASSWORD_');
  });

  it('refuses a sealed value with any single bit of its IV, tag or ciphertext changed', () => {
    const sealed = box.seal('DB_PASSWORD', VALUE);
    const parts = sealed.split(':');
    let tried = 0;
    for (const at of [2, 3, 4]) {
      const bytes = Buffer.from(parts[at]!, 'base64').length;
      for (let i = 0; i < bytes; i++) {
        const changed = parts.map((p, k) => (k === at ? flip(p, i) : p)).join(':');
        decryptError(() => box.open('DB_PASSWORD', changed), 'wrong_key_or_tampered');
        tried++;
      }
    }
    assert.equal(tried, 12 + 16 + Buffer.byteLength(VALUE));
  });

  it('refuses values not in the sealed format without echoing them', () => {
    const good = box.seal('DB_PASSWORD', VALUE).split(':');
    const cases = [
      '',
      VALUE, // a plaintext that reached the column by mistake
      `v2:${good.slice(1).join(':')}`,
      good.slice(0, 4).join(':'),
      [...good, 'x'].join(':'),
      good.map((p, k) => (k === 1 ? 'ABCDEF012345' : p)).join(':'),
      good.map((p, k) => (k === 2 ? p.slice(4) : p)).join(':'), // a short IV
      good.map((p, k) => (k === 3 ? p.slice(0, -4) : p)).join(':'), // a short tag
      good.map((p, k) => (k === 4 ? `${p}!` : p)).join(':'),
    ];
    for (const bad of cases) {
      const err = decryptError(() => box.open('DB_PASSWORD', bad), 'malformed');
      assert.match(err.message, /not in the v1 sealed format/);
    }
  });

  it('takes only a 32-byte key, and never shows it', () => {
    for (const n of [0, 16, 31, 33, 64]) {
      assert.throws(() => new SecretBox(randomBytes(n)), (e: unknown) => e instanceof SecretKeyError && e.message.includes(`got ${n}`));
    }
    const text = [inspect(box, { showHidden: true, depth: 5 }), String(box), JSON.stringify(box)].join('\n');
    for (const form of [key.toString('hex'), key.toString('base64'), key.toString('base64url')]) assert.ok(!text.includes(form), text);
    assert.ok(!inspect(box).includes('<Buffer'), inspect(box));
  });
});
