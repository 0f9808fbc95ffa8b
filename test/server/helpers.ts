// Shared by the server tests: a store in memory, the service and app over it, attempts driven
// by hand through the Store interface, and checks of answers against the route table.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { WharfService } from '../../src/api/service.js';
import { SecretBox } from '../../src/secrets/index.js';
import { buildApp } from '../../src/server/app.js';
import { responsesOf, ROUTES, type RouteName } from '../../src/server/routes.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Claim, Store, StoreChange } from '../../src/store/types.js';
import type { FastifyInstance } from 'fastify';

export const JOB_JSON = {
  name: 'demo',
  labels: { team: 'a' },
  tasks: {
    build: { command: ['sh', '-c', 'echo build'] },
    test: { command: ['sh', '-c', 'echo test'] },
  },
};

export const JOB_YAML = `name: yaml-demo
labels:
  team: b
tasks:
  only:
    command: [sh, -c, "echo hi"]
`;

/** A store whose live change listeners can be counted (each follower must remove its own). */
export interface Counted {
  store: Store;
  listeners(): number;
}

export function counting(store: Store): Counted {
  let n = 0;
  const wrapped: Store = Object.create(store) as Store;
  wrapped.onChange = (l: (c: StoreChange) => void) => {
    n++;
    const off = store.onChange(l);
    let done = false;
    return () => {
      if (!done) n--;
      done = true;
      off();
    };
  };
  return { store: wrapped, listeners: () => n };
}

export interface Setup {
  store: Store;
  service: WharfService;
  app: FastifyInstance;
  listeners(): number;
  close(): Promise<void>;
}

export async function setup(o: { bodyLimit?: number; pingMs?: number; ready?: () => boolean } = {}): Promise<Setup> {
  const raw = await openSqliteStore({ path: ':memory:' });
  const { store, listeners } = counting(raw);
  // A short safety timer keeps the tests quick should a nudge ever be missed.
  const box = new SecretBox(randomBytes(32));
  const service = new WharfService({ store, defaultBackend: 'local', pollMs: 200, admin: { admin: raw.admin, box: async () => box } });
  const app = buildApp({ service, store, isReady: o.ready ?? (() => true), bodyLimit: o.bodyLimit, pingMs: o.pingMs });
  await app.ready();
  return {
    store, service, app, listeners,
    async close() {
      await app.close();
      await raw.close();
    },
  };
}

/** Claims every queued attempt, as a worker would. */
export async function claimAll(store: Store): Promise<Claim[]> {
  return store.claimAttempts({ workerId: 'test-worker', backends: ['local', 'docker', 'kubernetes'], leaseMs: 60_000, limit: 100 });
}

/** Claims taken but not yet asked for, by store and "job/task": claiming takes every job's. */
const unclaimed = new WeakMap<Store, Map<string, Claim>>();

/** Claims (as a worker would) and starts the attempt of one task. */
export async function startTask(store: Store, jobId: string, task: string): Promise<Claim> {
  const pool = unclaimed.get(store) ?? new Map<string, Claim>();
  unclaimed.set(store, pool);
  for (const c of await claimAll(store)) pool.set(`${c.jobId}/${c.task}`, c);
  const c = pool.get(`${jobId}/${task}`);
  assert.ok(c, `no attempt of ${jobId}/${task} to claim`);
  pool.delete(`${jobId}/${task}`);
  assert.ok((await store.markStarted(c)).ok);
  return c;
}

export async function log(store: Store, c: Claim, text: string, stream: 'stdout' | 'stderr' = 'stdout'): Promise<void> {
  const r = await store.appendLogs(c, [{ stream, time: Date.now(), text, bytes: Buffer.byteLength(text) }]);
  assert.ok(r.ok);
}

export async function succeed(store: Store, c: Claim): Promise<void> {
  assert.ok((await store.finishAttempt(c, { kind: 'succeeded' })).ok);
}

/** Asserts the answer's status is declared for the route and its body matches that schema. */
export function checkAnswer(name: RouteName, res: { statusCode: number; body: string }): unknown {
  const declared = responsesOf(ROUTES[name])[res.statusCode];
  assert.ok(declared?.json, `${name} does not declare a JSON answer for ${res.statusCode}: ${res.body}`);
  const body: unknown = JSON.parse(res.body);
  const r = declared.json.safeParse(body);
  assert.ok(r.success, `${name} ${res.statusCode} does not match its schema: ${r.error?.message}\n${res.body}`);
  return body;
}

export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/** Reads raw event-stream text into messages (the wire format itself, not via the client). */
export function parseSse(text: string): { messages: SseMessage[]; comments: string[] } {
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  for (const block of text.split('\n\n')) {
    const m: Partial<SseMessage> & { event: string } = { event: 'message' };
    let hasData = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comments.push(line);
      else if (line.startsWith('id: ')) m.id = line.slice(4);
      else if (line.startsWith('event: ')) m.event = line.slice(7);
      else if (line.startsWith('data: ')) {
        m.data = line.slice(6);
        hasData = true;
      }
    }
    if (hasData && m.data !== undefined) messages.push({ ...m, data: m.data });
  }
  return { messages, comments };
}

/** Reads an event stream until `until` holds for what arrived so far, or it ends. */
export async function readStream(res: Response, until?: (text: string) => boolean): Promise<string> {
  assert.ok(res.body);
  const decoder = new TextDecoder();
  let text = '';
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (until?.(text)) break;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return text;
}

export async function eventually(check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
