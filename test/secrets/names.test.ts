// Secret names (usable as env var names) and values (maskable, storable), with errors that name
// the field and never show a value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { MIN_SECRET_LENGTH } from '../../src/core/redact.js';
import { MAX_SECRET_VALUE_BYTES, parseSecretName, parseSecretValue, SecretNameError, SecretValueError } from '../../src/secrets/index.js';

describe('parseSecretName', () => {
  it('accepts names that work as environment variable names', () => {
    for (const n of ['A', '_', 'DB_PASSWORD', 'token2', '_x_9', 'a'.repeat(128)]) assert.equal(parseSecretName(n), n);
  });

  it('refuses other names, naming the field, the culprit and the rule', () => {
    const cases: [unknown, RegExp][] = [
      ['', /^secrets\.x: a secret name cannot be empty; expected a letter or "_"/],
      ['9LIVES', /"9LIVES" is not a valid secret name \("9" at position 1\)/],
      ['my-secret', /"my-secret" is not a valid secret name \("-" at position 3\); expected a letter or "_", then letters, digits or "_", at most 128 characters \(it is used as an environment variable name\)/],
      ['a b', /\(" " at position 2\)/],
      ['pässword', /\("ä" at position 2\)/],
      ['A=B', /\("=" at position 2\)/],
      ['a'.repeat(129), /at most 128 characters, got 129$/],
      [42, /a secret name must be a string, got number$/],
      [null, /got null$/],
    ];
    for (const [name, message] of cases) {
      assert.throws(() => parseSecretName(name, 'secrets.x'), (e: unknown) => {
        assert.ok(e instanceof SecretNameError);
        assert.equal(e.field, 'secrets.x');
        assert.ok(e.message.startsWith('secrets.x: '), e.message);
        assert.match(e.message, message);
        return true;
      });
    }
    assert.throws(() => parseSecretName('a-b'), /^SecretNameError: name: /);
  });
});

describe('parseSecretValue', () => {
  it('accepts maskable text', () => {
    for (const v of ['abcd', 'pass word', '☃☃☃☃', 'x'.repeat(MAX_SECRET_VALUE_BYTES)]) assert.equal(parseSecretValue('S', v), v);
  });

  it('refuses short, huge, NUL-bearing and broken values without showing them', () => {
    const cases: [unknown, RegExp][] = [
      ['', /the value is 0 character\(s\); at least 4 are needed so that it can be masked in logs/],
      ['abc', new RegExp(`is 3 character\\(s\\); at least ${MIN_SECRET_LENGTH}`)],
      ['Q'.repeat(MAX_SECRET_VALUE_BYTES + 1), /is 65537 bytes; at most 65536 are allowed/],
      ['pass\u0000word', /contains a NUL character/],
      ['pass\uD800word', /not valid Unicode text/],
      ['pass\uDC00word', /not valid Unicode text/],
      [1234, /must be a string, got number/],
    ];
    for (const [value, message] of cases) {
      assert.throws(() => parseSecretValue('DB_PASSWORD', value), (e: unknown) => {
        assert.ok(e instanceof SecretValueError);
        assert.equal(e.secret, 'DB_PASSWORD');
        assert.match(e.message, /^secret "DB_PASSWORD": /);
        assert.match(e.message, message);
        if (typeof value === 'string' && value.length >= 3) {
          const text = `${String(e)}\n${inspect(e, { showHidden: true })}`;
          assert.ok(!text.includes(value) && !text.includes(value.slice(0, 3)), text.slice(0, 200));
        }
        return true;
      });
    }
  });
});
