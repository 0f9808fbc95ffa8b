// Reads Prometheus text exposition (0.0.4) strictly enough to catch a malformed line: every line
// is a HELP, a TYPE, or a sample `name{label="value",…} number` of a family declared before it.
import assert from 'node:assert/strict';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
// As Go's ParseFloat reads them (the format's definition): NaN and Inf in any case, so
// prom-client's `Nan` (a histogram with no samples yet) is valid.
const VALUE = '(?:[nN][aA][nN]|[+-][iI][nN][fF]|[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(${LABEL}(?:,${LABEL})*)?\\})? (${VALUE})$`);
const HELP = new RegExp(`^# HELP (${NAME}) .*$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SUFFIXES: Record<string, readonly string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

export function parseExposition(text: string): Sample[] {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '' || HELP.test(line)) continue;
    const t = TYPE.exec(line);
    if (t) {
      assert.ok(!types.has(t[1] ?? ''), `${t[1]} is typed twice`);
      types.set(t[1] ?? '', t[2] ?? '');
      continue;
    }
    const m = SAMPLE.exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    const name = m[1] ?? '';
    const family = [...types].find(([f, type]) => (SUFFIXES[type] ?? ['']).some((s) => name === f + s));
    assert.ok(family, `${name} has no TYPE line before it`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = l[2] ?? '';
    const raw = m[3] ?? '';
    const special: Record<string, number> = { nan: NaN, '+inf': Infinity, '-inf': -Infinity };
    samples.push({ name, labels, value: special[raw.toLowerCase()] ?? Number(raw) });
  }
  return samples;
}

/** The value of the one sample with this name and exactly these labels. */
export function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  const want = JSON.stringify(Object.entries(labels).sort());
  const found = samples.filter((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want);
  assert.equal(found.length, 1, `expected one sample ${name}${JSON.stringify(labels)}, found ${found.length}`);
  return found[0]?.value ?? NaN;
}
