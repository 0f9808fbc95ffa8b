// pods/log lines → chunks with cursors, resuming without loss or repeats, and the follow loop
// against a fake Log whose streams break; the API error texts. No cluster.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { LogOptions } from '@kubernetes/client-node';
import { KubeConfigError, KubernetesApiError, apiError, kubeConfigFrom, statusMessage } from '../../src/backends/kubernetes/api.js';
import { LogCursorError, LogFormatError, LogLines, MAX_LINE_BYTES, parseCursor, timestampNs } from '../../src/backends/kubernetes/log-lines.js';
import { podLogs, type LogClient, type RunProgress } from '../../src/backends/kubernetes/logs.js';
import type { RunLogChunk } from '../../src/backends/types.js';

const text = (chunks: RunLogChunk[]): string => Buffer.concat(chunks.map((c) => c.data)).toString('utf8');

/** A log file's lines as the kubelet serves them from `sinceTime`: every line stamped at or after it, in file order. */
function serve(lines: string[], since: string | undefined): string[] {
  const s = since ? Date.parse(since) * 1e6 : -Infinity;
  return lines.filter((l) => Number(timestampNs(l.slice(0, l.indexOf(' '))) ?? 0n) >= s);
}

/** A tiny deterministic generator (tests must not depend on luck). */
function lcg(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe('kubernetes log lines', () => {
  it('strips the timestamp into time and cursor, one chunk per line, all stdout', () => {
    const l = new LogLines();
    const out = l.push(Buffer.from('2024-11-19T15:50:15.199914591Z hello\n2024-11-19T15:50:15.199959074Z \n2024-11-19T15:50:16.000000000Z wor'));
    assert.deepEqual(out.map((c) => [c.stream, c.data.toString(), c.cursor, c.time]), [
      ['stdout', 'hello\n', '2024-11-19T15:50:14Z#1', Date.parse('2024-11-19T15:50:15.199Z')],
      ['stdout', '\n', '2024-11-19T15:50:14Z#2', Date.parse('2024-11-19T15:50:15.199Z')],
    ]);
    assert.deepEqual(l.push(Buffer.from('ld\n')).map((c) => [c.data.toString(), c.cursor]), [['world\n', '2024-11-19T15:50:15Z#3']]);
    assert.deepEqual(l.push(Buffer.from('2024-11-19T15:50:17.000000000Z no newline')), []);
    assert.deepEqual(l.end().map((c) => c.data.toString()), ['no newline']);
  });

  it('resumes from any cursor without repeating or losing a line, though stderr is stamped out of order', () => {
    // A real sequence from the simulator's kubelet: "oops" (stderr) stamped before "line 3".
    const file = [
      '2026-11-23T16:13:50.438802974Z line 1\n',
      '2026-11-23T16:13:50.438933721Z line 2\n',
      '2026-11-23T16:13:50.438993161Z line 3\n',
      '2026-11-23T16:13:50.438968553Z oops\n',
      '2026-11-23T16:13:50.438968553Z tie\n',
      '2026-11-23T16:13:51.000000000Z next second\n',
    ];
    const all = new LogLines().push(Buffer.from(file.join('')));
    assert.equal(text(all), 'line 1\nline 2\nline 3\noops\ntie\nnext second\n');
    for (const [i, c] of all.entries()) {
      const resumed = new LogLines(parseCursor(c.cursor ?? ''));
      const rest = resumed.push(Buffer.from(serve(file, resumed.resumeTime()).join('')));
      assert.equal(text(rest), text(all.slice(i + 1)), `after ${c.cursor}`);
    }
  });

  it('resumes exactly over many seconds of lines stamped out of order', () => {
    const rand = lcg(7);
    const base = Date.parse('2024-01-01T00:00:00Z') * 1e6;
    const file: string[] = [];
    let t = base;
    for (let i = 0; i < 400; i++) {
      t += Math.floor(rand() * 3e7); // up to 30 ms apart
      const jitter = rand() < 0.2 ? -Math.floor(rand() * 5e8) : 0; // some up to 0.5 s early
      const ns = BigInt(t + jitter);
      const iso = new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19);
      file.push(`${iso}.${String(ns % 1_000_000_000n).padStart(9, '0')}Z line ${i}\n`);
    }
    const all = new LogLines().push(Buffer.from(file.join('')));
    assert.equal(all.length, 400);
    for (const [i, c] of all.entries()) {
      const resumed = new LogLines(parseCursor(c.cursor ?? ''));
      assert.equal(text(resumed.push(Buffer.from(serve(file, resumed.resumeTime()).join('')))), text(all.slice(i + 1)), `after line ${i}`);
    }
  });

  it('drops a line cut by a broken stream and reads it whole from the next', () => {
    const file = ['2024-01-01T00:00:01.000000000Z one\n', '2024-01-01T00:00:02.000000000Z two\n', '2024-01-01T00:00:03.000000000Z three\n'];
    const l = new LogLines();
    assert.equal(text(l.push(Buffer.from(file.join('').slice(0, 50)))), 'one\n');
    l.restart();
    assert.equal(l.resumeTime(), '2024-01-01T00:00:00Z');
    assert.equal(text(l.push(Buffer.from(serve(file, l.resumeTime()).join('')))), 'two\nthree\n');
  });

  it('gives a very long line out in pieces with the line\'s cursor, and skips it whole when resuming', () => {
    const ts = '2024-01-01T00:00:01.000000000Z';
    const file = Buffer.concat([Buffer.from(`${ts} `), Buffer.alloc(MAX_LINE_BYTES + 10, 'x'), Buffer.from('yz\n2024-01-01T00:00:01.5Z after\n')]);
    const l = new LogLines();
    const out = [...l.push(file.subarray(0, MAX_LINE_BYTES + 20)), ...l.push(file.subarray(MAX_LINE_BYTES + 20))];
    assert.equal(text(out), file.toString().replace(/^\S+ /, '').replace(/\n\S+ /, '\n'));
    assert.deepEqual([...new Set(out.map((c) => c.cursor))], ['2024-01-01T00:00:00Z#1', '2024-01-01T00:00:00Z#2']);
    const resumed = new LogLines(parseCursor('2024-01-01T00:00:00Z#1'));
    const again = [...resumed.push(file.subarray(0, MAX_LINE_BYTES + 20)), ...resumed.push(file.subarray(MAX_LINE_BYTES + 20))];
    assert.equal(text(again), 'after\n');
  });

  it('refuses bad cursors and lines without a timestamp', () => {
    assert.throws(() => parseCursor('yesterday'), LogCursorError);
    assert.throws(() => parseCursor('2024-01-01T00:00:01Z'), LogCursorError);
    assert.throws(() => parseCursor('2024-01-01T00:00:01Z#x'), LogCursorError);
    assert.throws(() => new LogLines().push(Buffer.from('plain line\n')), LogFormatError);
    assert.deepEqual(parseCursor('2024-01-01T00:00:01.999999999Z#3'), { sinceNs: BigInt(Date.parse('2024-01-01T00:00:01Z')) * 1_000_000n, count: 3 });
  });
});

/** A container's log, served like the kubelet does: from `sinceTime`, by whole second. */
class FakeLog implements LogClient {
  readonly calls: LogOptions[] = [];
  /** Per call: after how many lines the connection drops (undefined: to the end). */
  breaks: (number | undefined)[] = [];
  constructor(readonly lines: string[]) {}

  log(_ns: string, _pod: string, _container: string, stream: Writable, options: LogOptions): Promise<AbortController> {
    this.calls.push(options);
    const since = options.sinceTime ? Date.parse(options.sinceTime) : 0;
    const lines = this.lines.filter((l) => Date.parse(l.slice(0, l.indexOf(' '))) >= since);
    const cut = this.breaks.shift();
    const body = new Readable({ read() {} });
    for (const [i, l] of lines.entries()) {
      if (cut !== undefined && i === cut) {
        body.push(Buffer.from(l.slice(0, 12))); // half a line, then the connection drops
        setImmediate(() => body.destroy(new Error('Premature close')));
        break;
      }
      body.push(Buffer.from(l));
    }
    if (cut === undefined || cut >= lines.length) body.push(null);
    body.pipe(stream);
    return Promise.resolve(new AbortController());
  }
}

describe('kubernetes follow loop', () => {
  const lines = Array.from({ length: 20 }, (_, i) => `2024-01-01T00:00:${String(Math.floor(i / 3)).padStart(2, '0')}.00000000${i % 3}Z line ${i}\n`);
  const expected = Array.from({ length: 20 }, (_, i) => `line ${i}\n`).join('');

  const source = (log: LogClient, progress: () => RunProgress, reports: string[] = []) => ({
    log, namespace: 'ns', pod: 'p', progress, changed: () => new Promise<void>((r) => setTimeout(r, 5)),
    track: () => () => undefined, closed: () => false, report: (m: string) => reports.push(m), timeoutMs: 1000,
  });

  it('reads on from the last line when a stream breaks, losing and repeating nothing', async () => {
    const log = new FakeLog(lines);
    log.breaks = [4, 11];
    const reports: string[] = [];
    const out: RunLogChunk[] = [];
    for await (const c of podLogs(source(log, () => 'ended', reports), { follow: true })) out.push(c);
    assert.equal(text(out), expected);
    assert.equal(log.calls.length, 3);
    assert.deepEqual(log.calls.map((c) => c.sinceTime), [undefined, '2024-01-01T00:00:00Z', '2024-01-01T00:00:02Z']);
    assert.ok(log.calls.every((c) => c.follow === true && c.timestamps === true));
    assert.equal(reports.length, 2);
    assert.match(reports[0] ?? '', /Premature close; reading on from the last line/);
  });

  it('reads once more when a stream ends while the run was still going', async () => {
    const log = new FakeLog(lines);
    const out: RunLogChunk[] = [];
    // Running when the first stream opens; ended by the time it ends.
    for await (const c of podLogs(source(log, () => (log.calls.length === 0 ? 'started' : 'ended')), { follow: true })) out.push(c);
    assert.equal(text(out), expected);
    assert.equal(log.calls.length, 2);
  });

  it('resumes after a cursor', async () => {
    const first: RunLogChunk[] = [];
    for await (const c of podLogs(source(new FakeLog(lines), () => 'ended'), { follow: false })) first.push(c);
    const log = new FakeLog(lines);
    const out: RunLogChunk[] = [];
    for await (const c of podLogs(source(log, () => 'ended'), { follow: false, after: first[7]?.cursor })) out.push(c);
    assert.equal(text(out), Array.from({ length: 12 }, (_, i) => `line ${i + 8}\n`).join(''));
    assert.equal(log.calls[0]?.sinceTime, '2024-01-01T00:00:01Z');
  });

  it('resumes after a cursor when the stream breaks before it got past what was given', async () => {
    const first: RunLogChunk[] = [];
    for await (const c of podLogs(source(new FakeLog(lines), () => 'ended'), { follow: false })) first.push(c);
    const log = new FakeLog(lines);
    log.breaks = [2, 9];
    const out: RunLogChunk[] = [];
    for await (const c of podLogs(source(log, () => 'ended'), { follow: true, after: first[7]?.cursor })) out.push(c);
    assert.equal(text(out), Array.from({ length: 12 }, (_, i) => `line ${i + 8}\n`).join(''));
    assert.equal(log.calls.length, 3);
  });
});

describe('kubernetes API errors', () => {
  it('carry the server\'s Status message and reason', () => {
    const body = '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \\"task-7f9c\\" already exists","reason":"AlreadyExists","details":{"name":"task-7f9c","kind":"pods"},"code":409}\n';
    const e = apiError({ code: 409, body, headers: {} }, 'creating pod task-7f9c');
    assert.ok(e instanceof KubernetesApiError);
    assert.equal(e.message, 'creating pod task-7f9c: pods "task-7f9c" already exists');
    assert.equal(e.status, 409);
    assert.equal(e.reason, 'AlreadyExists');
  });

  it('take a plain-text body (an APF 429) as it is, and say what a timeout is', () => {
    assert.deepEqual(statusMessage('Too many requests, please try again later.\n'), { message: 'Too many requests, please try again later.' });
    assert.equal(apiError({ code: 401, body: undefined }, 'listing pods').message, 'listing pods: Unauthorized (the credentials in the kubeconfig were refused)');
    const abort = Object.assign(new Error('The user aborted a request.'), { name: 'AbortError' });
    assert.equal(apiError(abort, 'deleting pod x', 30_000).message, 'deleting pod x: no answer from the Kubernetes API server within 30 s');
    assert.equal(apiError(new Error('connect ECONNREFUSED 127.0.0.1:1'), 'listing pods').message, 'listing pods: connect ECONNREFUSED 127.0.0.1:1');
    const refused = apiError(Object.assign(new Error('Service Unavailable'), { statusCode: 503 }), 'watching pods');
    assert.equal(refused.message, 'watching pods: HTTP 503 Service Unavailable');
    assert.equal(refused.status, 503);
  });
});

describe('kubernetes configuration', () => {
  it('loads the kubeconfig file and context it is given, and nothing else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-kubeconfig-'));
    try {
      const path = join(dir, 'config');
      // Never contacted: only loaded.
      writeFileSync(path, [
        'apiVersion: v1', 'kind: Config', 'current-context: a',
        'clusters:', '- name: a', '  cluster: {server: "http://127.0.0.1:1"}', '- name: b', '  cluster: {server: "http://127.0.0.1:2"}',
        'users:', '- name: u', '  user: {token: t}',
        'contexts:', '- name: a', '  context: {cluster: a, user: u}', '- name: b', '  context: {cluster: b, user: u}', '',
      ].join('\n'));
      assert.equal(kubeConfigFrom({ path }).getCurrentCluster()?.server, 'http://127.0.0.1:1');
      assert.equal(kubeConfigFrom({ path, context: 'b' }).getCurrentCluster()?.server, 'http://127.0.0.1:2');
      assert.throws(() => kubeConfigFrom({ path, context: 'c' }), (e: unknown) => e instanceof KubeConfigError && /no context "c" \(it has: a, b\)/.test(e.message));
      assert.throws(() => kubeConfigFrom({ path: join(dir, 'missing') }), (e: unknown) => e instanceof KubeConfigError && /cannot load kubeconfig/.test(e.message));
      assert.throws(() => kubeConfigFrom({}), (e: unknown) => e instanceof KubeConfigError && /give a kubeconfig path/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
