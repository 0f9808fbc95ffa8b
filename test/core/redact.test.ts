// Secret masking: which forms are covered, overlapping secrets, and streaming over any split
// equal to one-shot masking (property tests against a naive reference).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { MIN_SECRET_LENGTH, Redactor, StreamRedactor, secretForms } from '../../src/core/redact.js';
import { params } from '../fuzz/common.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

// The reference: mark every occurrence of every form (indexOf, overlapping), one mask per run.
function naiveRedact(values: readonly string[], text: string, mask = '***'): string {
  const covered = new Uint8Array(text.length);
  for (const f of values.flatMap(secretForms)) {
    for (let i = text.indexOf(f); i >= 0; i = text.indexOf(f, i + 1)) covered.fill(1, i, i + f.length);
  }
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (!covered[i]) out += text[i];
    else if (i === 0 || !covered[i - 1]) out += mask;
  }
  return out;
}

function streamed(r: Redactor, chunks: readonly string[]): string {
  const s = r.stream();
  return chunks.map((c) => s.push(c)).join('') + s.flush();
}

describe('secretForms', () => {
  it('covers the value, JSON escaping, percent-encoding and base64 forms', () => {
    const v = 'p@ss wörd"/+';
    const forms = secretForms(v);
    for (const f of [
      v,
      'p@ss wörd\\"/+',
      encodeURIComponent(v),
      'p%40ss+w%C3%B6rd%22%2F%2B',
      b64(v),
      b64(v).replace(/=+$/, ''),
      Buffer.from(v).toString('base64url'),
    ]) assert.ok(forms.includes(f), `missing ${JSON.stringify(f)}`);
    assert.equal(new Set(forms).size, forms.length, 'deduplicated');
  });

  it('skips values shorter than MIN_SECRET_LENGTH, and keeps no form shorter', () => {
    assert.equal(MIN_SECRET_LENGTH, 4);
    assert.deepEqual(secretForms(''), []);
    assert.deepEqual(secretForms('abc'), []);
    assert.ok(secretForms('abcd').every((f) => f.length >= MIN_SECRET_LENGTH));
    assert.ok(secretForms('abcd').includes('abcd'));
  });

  it('lists a plain value with nothing to escape once per distinct form', () => {
    assert.deepEqual(secretForms('hunter22').filter((f) => f === 'hunter22'), ['hunter22']);
  });
});

describe('Redactor', () => {
  it('masks the value and its encodings where they usually appear', () => {
    const pw = 's3cr3t pa$$';
    const r = new Redactor([pw]);
    assert.equal(r.redact(`password=${pw}!`), 'password=***!');
    assert.equal(r.redact(JSON.stringify({ p: `x ${pw}` })), '{"p":"x ***"}');
    assert.equal(r.redact(`GET /login?pw=${encodeURIComponent(pw)}&a=1`), 'GET /login?pw=***&a=1');
    assert.equal(r.redact(`token ${b64(pw)} end`), 'token *** end');
    assert.equal(r.redact('nothing to see'), 'nothing to see');
  });

  it('masks a value inside a longer base64 text at each of the 3 byte alignments', () => {
    const pw = 'correct horse battery';
    const r = new Redactor([pw]);
    for (const user of ['', 'a', 'ab', 'abc', 'user', 'admin']) {
      for (const tail of ['', 'x', ':more data']) {
        const header = `Authorization: Basic ${b64(`${user}:${pw}${tail}`)}`;
        const out = r.redact(header);
        assert.match(out, /\*\*\*/, header);
        // What is left around the mask is at most the prefix's own characters and 2 mixed ones.
        const kept = out.slice('Authorization: Basic '.length).replace('***', '');
        assert.ok(kept.length <= b64(`${user}:${tail}`).length + 4, `${header} -> ${out}`);
      }
    }
  });

  it('masks nested and overlapping secrets as one run', () => {
    const r = new Redactor(['abcdefgh', 'cdef', 'ghijkl']);
    assert.equal(r.redact('xx abcdefghijkl yy'), 'xx *** yy');
    assert.equal(r.redact('xx cdef yy'), 'xx *** yy');
    assert.equal(r.redact('cdefcdef|cdef'), '***|***');
  });

  it('ignores values too short to mask, and uses the given mask', () => {
    const r = new Redactor(['abc', 'secret-value'], '[redacted]');
    assert.equal(r.redact('abc secret-value abc'), 'abc [redacted] abc');
    assert.equal(new Redactor([]).redact('abc'), 'abc');
  });
});

describe('StreamRedactor', () => {
  it('masks a secret split across chunks, one character at a time', () => {
    const r = new Redactor(['hunter22']);
    const text = 'login hunter22 and hunter2 and hunter22hunter22.';
    assert.equal(streamed(r, [...text]), 'login *** and hunter2 and ***.');
    assert.equal(streamed(r, [text]), r.redact(text));
  });

  it('holds back at most (longest form - 1) characters', () => {
    const values = ['a-much-longer-secret-value', 'short1'];
    const longest = Math.max(...values.flatMap(secretForms).map((f) => f.length));
    const s = new StreamRedactor(values);
    let out = '';
    const text = 'plain text with no secret in it at all, long enough to pass the window. '.repeat(3);
    for (let i = 0; i < text.length; i++) {
      out += s.push(text[i]!);
      assert.equal(out.length, Math.max(0, i + 1 - (longest - 1)));
    }
    assert.equal(out + s.flush(), text);
  });

  it('passes text straight through when there is no secret', () => {
    const s = new StreamRedactor([]);
    assert.equal(s.push('abc'), 'abc');
    assert.equal(s.flush(), '');
  });

  it('keeps each stream separate', () => {
    const r = new Redactor(['topsecret']);
    const out = r.stream();
    const err = r.stream();
    assert.equal(out.push('top') + err.push('secret') + out.flush() + err.flush(), 'topsecret');
  });

  it('takes time linear in the text, even with runs of overlapping matches', () => {
    const value = 'a'.repeat(300);
    const r = new Redactor([value, 'b'.repeat(40) + 'a'.repeat(40)]);
    const time = (n: number): number => {
      const chunk = `${'a'.repeat(1000)}b${'x'.repeat(100)}${value}`.repeat(60); // ~84 KB
      const s = r.stream();
      const t0 = performance.now();
      let out = '';
      for (let i = 0; i < n; i++) out += s.push(chunk);
      out += s.flush();
      assert.ok(!out.includes('a'.repeat(300)));
      return performance.now() - t0;
    };
    time(4); // warm up
    const small = time(8);
    const large = time(64);
    assert.ok(large < 8 * small * 3 + 50, `8x the text took ${(large / small).toFixed(1)}x the time (${small.toFixed(1)} ms, ${large.toFixed(1)} ms)`);
  });
});

describe('StreamRedactor properties', () => {
  // A small alphabet makes secrets overlap, nest and repeat inside the text.
  const alpha = fc.constantFrom(...'ab c:/"+é\n');
  const secret = fc.string({ unit: alpha, minLength: 1, maxLength: 12 });
  const noise = fc.string({ unit: fc.constantFrom(...'ab c*=\n'), maxLength: 6 });
  const encode = fc.constantFrom<(v: string) => string>(
    (v) => v,
    (v) => JSON.stringify(v).slice(1, -1),
    encodeURIComponent,
    b64,
    (v) => b64(`u:${v}:p`),
    (v) => b64(`us:${v}`),
    (v) => v.slice(0, Math.ceil(v.length / 2)),
  );
  const scenario = fc
    .record({
      values: fc.array(secret, { minLength: 1, maxLength: 4 }),
      parts: fc.array(fc.tuple(noise, fc.nat(), encode), { maxLength: 12 }),
      cuts: fc.array(fc.nat(), { maxLength: 20 }),
    })
    .map(({ values, parts, cuts }) => {
      const text = parts.map(([n, i, enc]) => n + enc(values[i % values.length]!)).join('');
      const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((x, y) => x - y);
      const chunks = [0, ...at].map((start, k) => text.slice(start, at[k] ?? text.length));
      return { values, text, chunks };
    });

  it('concat(push) + flush equals one-shot redaction, for any split', () => {
    fc.assert(fc.property(scenario, ({ values, text, chunks }) => {
      const r = new Redactor(values);
      const whole = r.redact(text);
      assert.equal(whole, naiveRedact(values, text));
      assert.equal(streamed(r, chunks), whole);
      assert.equal(streamed(r, [...text]), whole);
    }), params(0x5ec7e1, 200));
  });

  it('leaves no form of any secret in the output', () => {
    fc.assert(fc.property(scenario, ({ values, chunks }) => {
      const out = streamed(new Redactor(values), chunks);
      for (const f of values.flatMap(secretForms)) assert.ok(!out.includes(f), `${JSON.stringify(f)} in ${JSON.stringify(out)}`);
    }), params(0x5ec7e2, 200));
  });
});
