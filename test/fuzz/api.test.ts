// Property-based fuzzing of the HTTP API through app.inject (no port), over the SQLite store in
// memory: random methods, paths built from the route table, query strings, headers and bodies.
// Whatever arrives, the answer is never a 5xx; every refusal has the one error shape with a clear
// message; every success matches what the route table declares. Seeds are fixed and runs
// bounded; see common.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { stringify as yamlStringify } from 'yaml';
import { randomBytes } from 'node:crypto';
import { WharfService } from '../../src/api/service.js';
import { SecretBox } from '../../src/secrets/index.js';
import { buildApp, DEFAULT_BODY_LIMIT } from '../../src/server/app.js';
import { responsesOf, ROUTES, type RouteName, type RouteSpec } from '../../src/server/routes.js';
import { JOB_STATES } from '../../src/core/states.js';
import { errorBodySchema, type JobView } from '../../src/spec/api.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { counting, JOB_JSON, JOB_YAML, log, parseSse, startTask, succeed } from '../server/helpers.js';
import { assertClearMessage, mutate, mutation, params, show, Slowest } from './common.js';

const T = { timeout: 60_000 };
/** An answer slower than this is a hang (an event stream that does not end, say). */
const ANSWER_MS = 5000;

const NAMES = Object.keys(ROUTES) as RouteName[];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const;

interface Request {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

interface Fixture {
  app: FastifyInstance;
  store: Store;
  listeners(): number;
  /** The route the last request reached ("GET /api/v1/jobs/:id"), if any. */
  matched(): string | undefined;
  reset(): void;
  /** A succeeded job (whose event and log streams end at once), with tasks build and test. */
  ended: string;
  /** Jobs whose streams would not end: never follow these. */
  live: string[];
  close(): Promise<void>;
}

async function fixture(): Promise<Fixture> {
  const raw = await openSqliteStore({ path: ':memory:' });
  const { store, listeners } = counting(raw);
  const box = new SecretBox(randomBytes(32));
  const service = new WharfService({ store, defaultBackend: 'local', pollMs: 200, admin: { admin: raw.admin, box: async () => box } });
  const app = buildApp({ service, store, isReady: () => true });
  let matched: string | undefined;
  app.addHook('onRequest', async (req) => {
    matched = req.routeOptions.url === undefined ? undefined : `${req.method} ${req.routeOptions.url}`;
  });
  await app.ready();
  const ended = await service.submitValue(JOB_JSON);
  for (const task of ['build', 'test']) {
    const c = await startTask(store, ended.id, task);
    await log(store, c, `${task} says hi\n`);
    await log(store, c, `${task} warns\n`, 'stderr');
    await succeed(store, c);
  }
  assert.equal((await service.getJob(ended.id)).state, 'succeeded');
  const queued = await service.submitValue({ ...JOB_JSON, name: 'queued' });
  const running = await service.submitValue({ ...JOB_JSON, name: 'running' });
  await startTask(store, running.id, 'build');
  return {
    app, store, listeners,
    matched: () => matched,
    reset: () => {
      matched = undefined;
    },
    ended: ended.id,
    live: [queued.id, running.id],
    async close() {
      await app.close();
      await raw.close();
    },
  };
}

/** The route table entry a request reached. */
function routeOf(matched: string | undefined): RouteName | undefined {
  return NAMES.find((n) => `${ROUTES[n].method} ${ROUTES[n].url}` === matched);
}

// ---- what to send ------------------------------------------------------------------------------

/** Path segments: real ids and names, traversal, bad and odd percent-encodings, unicode, long. */
const segment = (ids: readonly string[]) => fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...ids, 'build', 'test') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '', '.', '..', '%2e%2e', '..%2F..', '%00', '%', '%2', '%zz', '%2F', '%5C', '%C0%AF', '%E0%A4%A', '%FF', '%ED%A0%80',
      '%F0%9F%92%A9', '__proto__', 'constructor', 'nope', 'a b', '%20', '+', ';', ';x=1', '~', '*', 'a'.repeat(100), 'a'.repeat(101),
      '%41'.repeat(40), 'é', encodeURIComponent('é'.repeat(60)), 'x'.repeat(20_000),
    ),
  },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).map(encodeURIComponent) },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@-]{0,40}$/) },
);

/** A path from the route's template, sometimes bent: a trailing or doubled slash, a suffix, other casing. */
const pathOf = (route: RouteSpec, ids: readonly string[]) => fc.tuple(
  fc.array(segment(ids), { minLength: 2, maxLength: 2 }),
  fc.oneof({ weight: 12, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/', '//', '/extra', '/..', '?', '#frag', '%00') }),
  fc.oneof({ weight: 12, arbitrary: fc.constant('as is') }, { weight: 1, arbitrary: fc.constantFrom('upper case', 'double slash', 'trailing slash') }),
).map(([[id, task], suffix, bend]) => {
  let path = route.url.replace(':id', id!).replace(':task', task!);
  if (bend === 'double slash') path = path.replace('/', '//');
  if (bend === 'trailing slash') path = `${path.replace(/\/$/, '')}/`;
  if (bend === 'upper case') path = path.toUpperCase();
  return path + suffix;
});

/** A query the route accepts, mostly: its own keys with values that make sense. */
const validQueryOf = (route: RouteSpec, ids: readonly string[]) => {
  const keys = Object.keys(route.query?.shape ?? {});
  if (keys.length === 0) return fc.constant('');
  const cursor = (n: number): string => Buffer.from(`seq:${n}`).toString('base64url');
  const VALUES: Record<string, fc.Arbitrary<string>> = {
    state: fc.constantFrom(...JOB_STATES),
    label: fc.constantFrom('team=a', 'team=b', 'n=1', 'x=y=z'),
    cursor: fc.integer({ min: 0, max: 50 }).map(cursor),
    limit: fc.integer({ min: 1, max: 500 }).map(String),
    task: fc.constantFrom('build', 'test'),
    attempt: fc.constantFrom('1', '2'),
    after: fc.integer({ min: 0, max: 30 }).map(String),
    follow: fc.constantFrom('true', 'false', '1', '0'),
    job: fc.constantFrom(...ids),
  };
  return fc.subarray(keys, { minLength: 1 }).chain((chosen) =>
    fc.tuple(...chosen.map((k) => (VALUES[k] ?? fc.constant('x')).map((v) => `${k}=${encodeURIComponent(v)}`))))
    .map((pairs) => pairs.join('&'));
};

const QUERY_KEYS = ['state', 'label', 'cursor', 'limit', 'task', 'attempt', 'after', 'follow', 'job'] as const;

/** Query values: valid ones for every key, and garbage. */
const queryValue = (ids: readonly string[]) => fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'queued', 'succeeded', 'team=a', 'team=b', 'a=', '=b', 'novalue', '1', '2', '10', '500', '501', '10000', '10001',
      'true', 'false', '0', 'build', 'test', ...ids,
    ),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '', '-1', '-0', '0.5', '1e3', '1e400', 'NaN', 'Infinity', '9007199254740993', '99999999999999999999999', '0x10', '0b1',
      ' 5', '5 ', '+5', 'yes', 'TRUE', 'null', 'undefined', '[]', '{}', '%', '%zz', '%00', 'x'.repeat(5000),
      Buffer.from('seq:1').toString('base64url'), Buffer.from(`seq:${'9'.repeat(400)}`).toString('base64url'), Buffer.from('seq:-1').toString('base64url'),
    ),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent) },
);

const queryKey = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...QUERY_KEYS) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('bogus', 'State', 'label[]', 'label[0]', 'limit[x]', '__proto__', 'constructor', 'toString', '', '%00', 'a.b', '%zz'),
  },
);

/** A query string; keys may repeat, have no "=", or be unknown. */
const queryOf = (ids: readonly string[]) => fc.array(
  fc.tuple(queryKey, fc.option(queryValue(ids), { nil: undefined, freq: 8 })),
  { maxLength: 5 },
).map((pairs) => pairs.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join('&'));

const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'Application/JSON', 'APPLICATION/JSON; CHARSET=UTF-8',
  'application/json;charset=latin1', 'application/json ; x="y;z"', 'application/yaml', 'application/x-yaml', 'text/yaml',
  'text/x-yaml; charset=utf-8', 'TEXT/YAML', 'text/yaml; charset=utf-16', 'text/plain', 'application/xml',
  'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json, text/yaml', 'application/jsonx',
  'application/vnd.api+json', 'json', ';', '', ' ', '*/*', 'application/*', 'application/octet-stream', 'application/json;;',
  'application/json; charset=', 'application/json; charset="utf-8', 'text/yaml\t',
] as const;

const ACCEPTS = ['application/json', '*/*', 'text/event-stream', 'text/event-stream;q=0', 'TEXT/EVENT-STREAM', 'text/html', '', ',,,', 'x'.repeat(500)] as const;
const LAST_EVENT_IDS = ['', '0', '1', '5', '-1', '1.5', '1e3', 'abc', '0x10', ' 5', '99999999999999999999', '9007199254740991', 'NaN'] as const;

const header = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });

const headersOf = fc.record({
  'content-type': fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...CONTENT_TYPES) }, { weight: 1, arbitrary: header }),
  accept: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ACCEPTS) }, { weight: 1, arbitrary: header }),
  'last-event-id': fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...LAST_EVENT_IDS) }, { weight: 1, arbitrary: header }),
}, { requiredKeys: [] });

const JOB_TEXT = JSON.stringify(JOB_JSON);
const BOMB = (() => {
  let bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  let prev = 'a';
  for (const c of 'bcdefghi') {
    bomb += `${c}: &${c} [${Array(9).fill(`*${prev}`).join(',')}]\n`;
    prev = c;
  }
  return bomb;
})();

const INVALID_UTF8 = [
  [0xff, 0xfe], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf],
].map((bytes) => Buffer.from(bytes));

/** Bodies: valid job files, broken ones, binary, invalid UTF-8, a YAML bomb. */
const bodyOf = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.constantFrom(JOB_TEXT, JOB_YAML, yamlStringify(JOB_JSON), BOMB, '{}', '[]', 'null', '""', '{"name":', 'name: [') },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(JOB_TEXT, JOB_YAML), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([t, ms]) => mutate(t, ms)) },
  { weight: 1, arbitrary: fc.nat(JOB_TEXT.length).map((n) => JOB_TEXT.slice(0, n)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(...INVALID_UTF8), fc.nat(JOB_TEXT.length)).map(([bad, at]) =>
      Buffer.concat([Buffer.from(JOB_TEXT.slice(0, at)), bad, Buffer.from(JOB_TEXT.slice(at))])),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
);

/** A job file, sometimes a little broken, sent with a content type that fits it. */
const coherentBody = fc.tuple(
  fc.constantFrom(
    { text: JOB_TEXT, types: ['application/json', 'application/json; charset=utf-8'] },
    { text: JOB_YAML, types: ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml; charset=utf-8'] },
    { text: yamlStringify({ ...JOB_JSON, tasks: { a: { command: ['x'] }, b: { command: ['y'], needs: ['a'] } } }), types: ['application/yaml'] },
  ),
  fc.nat(),
  fc.oneof({ weight: 2, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) }),
).map(([{ text, types }, i, ms]) => ({ payload: mutate(text, ms), type: types[i % types.length] }));

/** A random request against one route of the table (or, bent, against none). */
const requestOf = (ids: readonly string[]) => fc.constantFrom(...NAMES).chain((name) => {
  const route: RouteSpec = ROUTES[name];
  return fc.record({
    method: fc.oneof({ weight: 5, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }),
    path: fc.oneof({ weight: 8, arbitrary: pathOf(route, ids) }, { weight: 1, arbitrary: fc.constant(route.url.replace(/:(\w+)/g, (_, p: string) => (p === 'id' ? ids[0]! : 'build'))) }),
    query: fc.oneof({ weight: 3, arbitrary: fc.constant('') }, { weight: 4, arbitrary: validQueryOf(route, ids) }, { weight: 3, arbitrary: queryOf(ids) }),
    headers: headersOf,
    // A job file with its own content type, or anything with any.
    body: fc.oneof(
      { weight: 2, arbitrary: coherentBody },
      { weight: 3, arbitrary: bodyOf.map((payload) => ({ payload, type: undefined })) },
    ),
  });
}).map(({ method, path, query, headers, body }): Request => {
  const url = query === '' ? path : `${path}${path.includes('?') ? '&' : '?'}${query}`;
  const req: Request = { method, url, headers: { ...headers } };
  if (body.type !== undefined) req.headers['content-type'] = body.type;
  if (body.payload !== undefined) req.payload = body.payload;
  return req;
});

/**
 * Keeps a request from opening an event stream that would not end: log streams only of the
 * ended job, the event stream only of one job, that one. Everything else about it stays.
 */
function tame(req: Request, fx: Fixture): Request {
  const [path, query] = splitUrl(req.url);
  const q = new URLSearchParams(query);
  const segs = path.split('/').map(safeDecode);
  const isLive = (id: string | undefined): boolean => id !== undefined && fx.live.includes(id);
  const headers = { ...req.headers };
  let changed = false;
  if (req.method === 'GET' && /^\/api\/v1\/jobs\/[^/]*\/(?:logs|tasks\/[^/]*\/logs)$/.test(path) && isLive(segs[4])) {
    const follow = q.getAll('follow');
    if (follow.length === 1 && (follow[0] === 'true' || follow[0] === '1')) {
      q.set('follow', 'false');
      changed = true;
    }
    if (follow.length === 0) delete headers.accept;
  }
  if (req.method === 'GET' && path === '/api/v1/events') {
    const jobs = q.getAll('job');
    if (jobs.length === 0 || (jobs.length === 1 && isLive(jobs[0]))) {
      q.set('job', fx.ended);
      changed = true;
    }
  }
  // The URL as generated (odd encodings included) unless it had to change.
  return { ...req, headers, url: changed ? `${path}?${q.toString()}` : req.url };
}

/** Path and query as the server sees them: a fragment (and any "?" in it) is dropped. */
function splitUrl(url: string): [string, string] {
  const sent = url.split('#')[0]!;
  const at = sent.indexOf('?');
  return at === -1 ? [sent, ''] : [sent.slice(0, at), sent.slice(at + 1)];
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

// ---- what must come back -----------------------------------------------------------------------

/** Messages zod writes on its own: the API words its own. */
const ZOD_DEFAULT = /^(?:Invalid input|Invalid option|Too small|Too big|Unrecognized key|Invalid string|Required$)/;

interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

/** Sends a request; a hang fails, a slow answer is recorded. */
async function send(fx: Fixture, slowest: Slowest, req: Request): Promise<Answer> {
  fx.reset();
  return slowest.timeAsync(() => `${req.method} ${show(req.url, 120)} ${show(req.headers, 200)} body ${show(req.payload?.toString(), 80)}`, async () => {
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${ANSWER_MS} ms: ${req.method} ${show(req.url)}`)), ANSWER_MS);
    });
    try {
      const res = await Promise.race([fx.app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, payload: req.payload }), hang]);
      return { statusCode: res.statusCode, headers: res.headers, body: res.body };
    } finally {
      clearTimeout(timer);
    }
  });
}

/** How often each route answered each status, to show what a run covered. */
class Tally {
  private readonly counts = new Map<string, number>();

  add(route: RouteName | undefined, res: Answer): void {
    const stream = String(res.headers['content-type'] ?? '').startsWith('text/event-stream') ? ' stream' : '';
    const key = `${route ?? '(none)'} ${res.statusCode}${stream}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  has(route: RouteName, status: (s: number) => boolean): boolean {
    return [...this.counts.keys()].some((k) => k.startsWith(`${route} `) && status(Number(k.split(' ')[1])));
  }

  summary(): string {
    return [...this.counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}: ${n}`).join(', ');
  }
}

/** The answer's properties: no 5xx, the one error shape, declared statuses and schemas. */
function checkAnswer(fx: Fixture, req: Request, res: Answer, tally?: Tally): void {
  const route = routeOf(fx.matched());
  tally?.add(route, res);
  const what = `${req.method} ${show(req.url, 200)} ${show(req.headers, 300)} body ${show(req.payload?.toString(), 200)} → ${res.statusCode} ${show(res.body, 600)}`;
  assert.ok(res.statusCode < 500, `a ${res.statusCode}: ${what}`);
  assert.ok(res.statusCode >= 200, `status ${res.statusCode}: ${what}`);
  if (route) {
    const declared = responsesOf(ROUTES[route]);
    assert.ok(declared[res.statusCode], `${route} does not declare ${res.statusCode}: ${what}`);
  } else {
    // Before routing: a bad path (400, 414); a body Fastify reads even for the 404 (400, 413, 415).
    assert.ok([400, 404, 413, 414, 415].includes(res.statusCode), `no route, yet ${res.statusCode}: ${what}`);
  }
  if (req.method === 'HEAD') return;
  const type = String(res.headers['content-type'] ?? '');

  if (res.statusCode >= 300) {
    assert.match(type, /^application\/json/, `an error that is not JSON: ${what}`);
    let body: unknown;
    try {
      body = JSON.parse(res.body);
    } catch {
      assert.fail(`an error body that does not parse: ${what}`);
    }
    const r = errorBodySchema.strict().safeParse(body);
    assert.ok(r.success, `not the error shape: ${what}`);
    const { error } = r.data;
    assertClearMessage(error.message, what);
    assert.ok(!ZOD_DEFAULT.test(error.message), `zod's own words: ${what}`);
    for (const d of error.details) {
      assertClearMessage(d.message, what);
      assert.ok(!ZOD_DEFAULT.test(d.message), `zod's own words: ${what}`);
    }
    return;
  }

  assert.ok(route, `a success from no route: ${what}`);
  const declared = responsesOf(ROUTES[route])[res.statusCode]!;
  if (type.startsWith('text/event-stream')) {
    assert.ok(declared.sse, `${route} does not declare an event stream: ${what}`);
    const { messages } = parseSse(res.body);
    assert.ok(messages.length > 0 && messages.at(-1)!.event === 'end', `a stream that did not end with "end": ${what}`);
    for (const m of messages) {
      assert.notEqual(m.event, 'error', `an error event: ${what}`);
      const data: unknown = JSON.parse(m.data);
      if (m.event === 'end') assert.ok(typeof (data as { state?: unknown }).state === 'string', what);
      else assert.ok(declared.sse.safeParse(data).success, `an event that does not match its schema: ${show(data)} in ${what}`);
    }
    return;
  }
  assert.ok(declared.json, `${route} declares no JSON body for ${res.statusCode}: ${what}`);
  const r = declared.json.safeParse(JSON.parse(res.body));
  assert.ok(r.success, `${route} ${res.statusCode} does not match its schema: ${r.error?.message} in ${what}`);
}

// ---- the properties ----------------------------------------------------------------------------

describe('fuzz: HTTP API', () => {
  let fx: Fixture;
  before(async () => {
    fx = await fixture();
  });
  after(async () => {
    await fx.close();
  });

  test('random requests to every route', T, async (t) => {
    const slowest = new Slowest();
    const tally = new Tally();
    const ids = [fx.ended, ...fx.live];
    await fc.assert(fc.asyncProperty(requestOf(ids), async (raw) => {
      const req = tame(raw, fx);
      checkAnswer(fx, req, await send(fx, slowest, req), tally);
    }), params(0x5eed10, 600));
    t.diagnostic(slowest.summary());
    t.diagnostic(tally.summary());
    // The run reached every route, and the plain ones with answers beyond refusals.
    for (const name of NAMES) assert.ok(tally.has(name, () => true), `${name} was never reached`);
    for (const name of ['health', 'ready', 'openapi', 'jobSchema', 'listJobs', 'getJob', 'submit', 'events'] as const) {
      assert.ok(tally.has(name, (status) => status < 300), `${name} never answered 2xx`);
    }
  });

  test('event streams of an ended job, with random resume points', T, async (t) => {
    const slowest = new Slowest();
    const target = fc.constantFrom<Array<[string, RouteSpec]>>(
      [`/api/v1/jobs/${fx.ended}/logs`, ROUTES.jobLogs],
      [`/api/v1/jobs/${fx.ended}/tasks/build/logs`, ROUTES.taskLogs],
      [`/api/v1/jobs/${fx.ended}/tasks/nope/logs`, ROUTES.taskLogs],
      ['/api/v1/events', ROUTES.events],
    );
    const req = target.chain(([url, route]) => fc.record({
      url: fc.constant(url),
      query: fc.oneof(
        { weight: 1, arbitrary: fc.constant('') },
        { weight: 4, arbitrary: validQueryOf(route, [fx.ended]) },
        { weight: 1, arbitrary: queryOf([fx.ended]) },
      ).map((q) => q.replace(/(?:^|&)(?:follow|job)=[^&]*/g, '')),
      headers: headersOf,
    })).map(({ url, query, headers }): Request => {
      const q = url === '/api/v1/events' ? `job=${fx.ended}&${query}` : `follow=true&${query}`;
      return { method: 'GET', url: `${url}?${q}`, headers: { ...headers } };
    });
    const tally = new Tally();
    await fc.assert(fc.asyncProperty(req, async (raw) => {
      const r = tame(raw, fx);
      checkAnswer(fx, r, await send(fx, slowest, r), tally);
    }), params(0x5eed11, 150));
    t.diagnostic(slowest.summary());
    t.diagnostic(tally.summary());
    for (const name of ['jobLogs', 'taskLogs', 'events'] as const) assert.ok(tally.has(name, (status) => status === 200), `${name} never streamed`);
  });

  test('bodies at and over the size limit', T, async (t) => {
    const slowest = new Slowest();
    // A job of exactly `size` bytes of JSON, padded with arguments within the 128 KiB each may have.
    const job = (size: number): string => {
      const CHUNK = 100_000;
      const base = JSON.stringify({ ...JOB_JSON, tasks: { a: { command: ['echo'] } } }).length;
      const chunks = Math.ceil((size - base) / (CHUNK + 3)); // each adds ,"…": 3 bytes besides its text
      const pad = size - base - 3 * chunks;
      const args = Array.from({ length: chunks }, (_, i) => 'x'.repeat(Math.min(CHUNK, pad - i * CHUNK)));
      const text = JSON.stringify({ ...JOB_JSON, tasks: { a: { command: ['echo', ...args] } } });
      assert.equal(text.length, size);
      return text;
    };
    const cases: Array<[string, string | Buffer, string]> = [
      ['a job of exactly 1 MiB', job(DEFAULT_BODY_LIMIT), 'application/json'],
      ['a job of 1 MiB + 1 byte', job(DEFAULT_BODY_LIMIT + 1), 'application/json'],
      ['YAML of just under 1 MiB', `name: big\ntasks:\n  a:\n    command: [${'y'.repeat(DEFAULT_BODY_LIMIT - 40)}]\n`, 'application/yaml'],
      ['binary of 1 MiB + 1 byte', Buffer.alloc(DEFAULT_BODY_LIMIT + 1, 0xff), 'application/yaml'],
      ['binary of 1 MiB', Buffer.alloc(DEFAULT_BODY_LIMIT, 0x80), 'application/json'],
      ['a body of 2 MiB to cancel', Buffer.alloc(2 * DEFAULT_BODY_LIMIT, 0x7b), 'application/json'],
    ];
    for (const [label, payload, type] of cases) {
      const url = label.includes('cancel') ? `/api/v1/jobs/${fx.ended}/cancel` : '/api/v1/jobs';
      const req: Request = { method: 'POST', url, headers: { 'content-type': type }, payload };
      const res = await send(fx, slowest, req);
      checkAnswer(fx, req, res);
      const size = Buffer.byteLength(payload);
      if (size > DEFAULT_BODY_LIMIT) assert.equal(res.statusCode, 413, label);
      else if (label.startsWith('a job')) assert.equal(res.statusCode, 201, label);
    }
    t.diagnostic(slowest.summary());
  });

  test('odd requests: every method on every route, lying headers, poisoned keys', T, async (t) => {
    const slowest = new Slowest();
    const requests: Request[] = [];
    for (const name of NAMES) {
      const url = ROUTES[name].url.replace(':id', fx.ended).replace(':task', 'build');
      for (const method of METHODS) requests.push({ method, url: name === 'events' ? `${url}?job=${fx.ended}` : url, headers: {} });
    }
    const json = { 'content-type': 'application/json' };
    requests.push(
      { method: 'POST', url: '/api/v1/jobs', headers: { ...json, 'content-length': '3' }, payload: JOB_TEXT },
      { method: 'POST', url: '/api/v1/jobs', headers: { ...json, 'content-length': String(JOB_TEXT.length + 100) }, payload: JOB_TEXT },
      { method: 'POST', url: '/api/v1/jobs', headers: { ...json, 'content-length': 'abc' }, payload: JOB_TEXT },
      { method: 'POST', url: '/api/v1/jobs', headers: { ...json, 'content-encoding': 'gzip' }, payload: JOB_TEXT },
      { method: 'POST', url: '/api/v1/jobs', headers: { ...json, 'transfer-encoding': 'chunked' }, payload: JOB_TEXT },
      { method: 'POST', url: '/api/v1/jobs', headers: json, payload: '{"__proto__": {"polluted": 1}, "constructor": {"prototype": {}}}' },
      { method: 'POST', url: `/api/v1/jobs/${fx.ended}/cancel`, headers: json, payload: '{"__proto__": {"polluted": 1}}' },
      { method: 'POST', url: '/api/v1/jobs', headers: { 'content-type': 'application/yaml' }, payload: `__proto__: {polluted: 1}\n${JOB_YAML}` },
      { method: 'GET', url: '/api/v1/jobs?__proto__[polluted]=1&constructor[prototype][x]=1', headers: {} },
      { method: 'GET', url: `/api/v1/jobs/${fx.ended}/logs?follow=true`, headers: { 'last-event-id': '1'.repeat(400) } },
      { method: 'GET', url: `/api/v1/events?job=${fx.ended}`, headers: { 'last-event-id': '1, 2' } },
      { method: 'GET', url: `/api/v1/jobs/${fx.ended}`, headers: { accept: 'text/event-stream' } },
    );
    for (const req of requests) checkAnswer(fx, req, await send(fx, slowest, req));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    t.diagnostic(slowest.summary());
  });

  test('nothing leaks: the ended job stays ended, no follower stays registered', T, async () => {
    const job = JSON.parse((await fx.app.inject({ url: `/api/v1/jobs/${fx.ended}` })).body) as JobView;
    assert.equal(job.state, 'succeeded');
    assert.equal(fx.listeners(), 0);
  });
});
