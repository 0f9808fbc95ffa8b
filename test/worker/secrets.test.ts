// Secrets given to tasks, end to end on this machine: the real SQLite store holding sealed
// values, the worker fetching them at start, the local backend running the task, and what is
// stored (logs, outcomes) masked.
import { textLog } from '../../src/core/log.js';
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createLocalBackend } from '../../src/backends/local/index.js';
import { SecretBox, SecretDecryptError, SecretMissingError, storeSecrets, type SecretSource } from '../../src/secrets/index.js';
import type { JobView, LogEntry } from '../../src/spec/api.js';
import type { JobSpec } from '../../src/spec/schema.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/index.js';
import { Worker } from '../../src/worker/worker.js';
import { tempHome } from '../helpers/cli.js';

// Characters that change under base64, JSON and percent-encoding, split by "-" for the shell.
const VALUE = 'sEcr3t-V@lue/+ x';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Setup {
  store: SqliteStore;
  box: SecretBox;
  reports: string[];
  run(tasks: JobSpec['tasks'], secrets?: SecretSource | null): Promise<{ job: JobView; logs: LogEntry[] }>;
}

async function setup(): Promise<Setup> {
  const home = tempHome('wharf-secrets-');
  cleanups.push(home.cleanup);
  const store = await openSqliteStore({ path: join(home.dir, 'wharf.db') });
  cleanups.push(() => store.close());
  const box = new SecretBox(randomBytes(32));
  await store.admin.putSecret('TOKEN', box.seal('TOKEN', VALUE));
  const reports: string[] = [];
  return {
    store, box, reports,
    async run(tasks, secrets) {
      const backend = createLocalBackend({ stateDir: home.dir, instanceId: store.instanceId });
      const worker = new Worker({
        store, backends: [backend], log: textLog('test', (l) => reports.push(l), 'debug'),
        ...(secrets === null ? {} : { secrets: secrets ?? storeSecrets(store.admin, box) }),
      });
      cleanups.push(async () => { await worker.stop(); await backend.close(); });
      const created = await store.createJob({ name: 'secrets', tasks }, { defaultBackend: 'local' });
      await worker.start();
      const job = await ended(store, created.id);
      return { job, logs: await store.readLogs({ jobId: job.id, limit: 10_000 }) };
    },
  };
}

/** Resolves when the job ends (woken by the store's nudges, never by polling). */
function ended(store: SqliteStore, id: string): Promise<JobView> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      store.getJob(id).then((j) => {
        if (j && ['succeeded', 'failed', 'canceled'].includes(j.state)) { off(); resolve(j); }
      }, reject);
    };
    const off = store.onChange((c) => { if (c.type === 'events') check(); });
    check();
  });
}

const text = (logs: LogEntry[], stream: string): string => logs.filter((l) => l.stream === stream).map((l) => l.text).join('');

describe('secrets given to tasks (worker + local backend)', () => {
  it('gives the value to the task and masks it, its encodings and a value split across writes in the stored logs', async () => {
    const { run } = await setup();
    const script = [
      'echo "plain=$TOKEN"',
      'printf %s "$TOKEN" | base64',
      `echo "url=${encodeURIComponent(VALUE)}"`,
      'printf %s "${TOKEN%%-*}-"; sleep 0.1; printf "%s\\n" "${TOKEN#*-}"',
      'echo "$TOKEN" >&2',
      '[ "$TOKEN" = \'' + VALUE + '\' ] && echo same',
    ].join('\n');
    const { job, logs } = await run({ a: { command: ['sh', '-c', script], secrets: ['TOKEN'] } });
    assert.equal(job.state, 'succeeded');
    const out = text(logs, 'stdout');
    assert.equal(out, 'plain=***\n***\nurl=***\n***\nsame\n');
    assert.equal(text(logs, 'stderr'), '***\n');
    assert.ok(!JSON.stringify(logs).includes(VALUE));
    assert.ok(!JSON.stringify(logs).includes(Buffer.from(VALUE).toString('base64')));
  });

  it('gives a secret under another variable name', async () => {
    const { run } = await setup();
    const { job, logs } = await run({ a: { command: ['sh', '-c', 'echo "${TOKEN:-unset} $API_KEY"'], secrets: [{ name: 'TOKEN', env: 'API_KEY' }] } });
    assert.equal(job.state, 'succeeded');
    assert.equal(text(logs, 'stdout'), 'unset ***\n');
  });

  it('masks the value in the reason of a start that failed, and in its [wharf] line', async () => {
    const { run, reports } = await setup();
    const { job, logs } = await run({ a: { command: [`/nonexistent/${VALUE}`], secrets: ['TOKEN'] } });
    const outcome = job.tasks[0]?.attempts[0]?.outcome;
    assert.deepEqual(outcome, { kind: 'start_failed', reason: 'command not found: /nonexistent/***' });
    assert.equal(text(logs, 'system'), '[wharf] could not start: command not found: /nonexistent/***\n');
    // (The job itself shows the command, which the user wrote with the value in it.)
    assert.ok(!JSON.stringify({ attempts: job.tasks[0]?.attempts, logs, reports }).includes(VALUE));
  });

  it('ends the attempt start_failed naming a secret that does not exist', async () => {
    const { run } = await setup();
    const { job, logs } = await run({ a: { command: ['true'], secrets: ['TOKEN', 'NOPE'] } });
    const reason = 'secret NOPE does not exist (any more): wharf secret set NOPE';
    assert.deepEqual(job.tasks[0]?.attempts[0]?.outcome, { kind: 'start_failed', reason });
    assert.equal(text(logs, 'system'), `[wharf] could not start: ${reason}\n`);
  });

  it('ends the attempt start_failed when a secret cannot be decrypted, naming it and not its value', async () => {
    const { run, store } = await setup();
    const other = new SecretBox(randomBytes(32));
    await store.admin.putSecret('OLD', other.seal('OLD', VALUE));
    const { job } = await run({ a: { command: ['true'], secrets: ['OLD'] } });
    const outcome = job.tasks[0]?.attempts[0]?.outcome;
    assert.equal(outcome?.kind, 'start_failed');
    assert.match(outcome?.kind === 'start_failed' ? outcome.reason : '', /^secret "OLD" cannot be decrypted: wrong key or tampered/);
    assert.ok(!JSON.stringify(job).includes(VALUE));
    assert.ok(!JSON.stringify(job).includes(VALUE.slice(0, 6)));
  });

  it('ends the attempt start_failed when the worker has no secrets to give', async () => {
    const { run } = await setup();
    const { job } = await run({ a: { command: ['true'], secrets: ['TOKEN'] } }, null);
    assert.deepEqual(job.tasks[0]?.attempts[0]?.outcome, {
      kind: 'start_failed',
      reason: 'the task uses secrets (TOKEN) but this worker was started without access to secrets (no secret key or store configured)',
    });
  });
});

describe('storeSecrets', () => {
  const box = new SecretBox(randomBytes(32));
  const rows = [{ name: 'A', sealed: box.seal('A', 'value-a'), createdAt: 1, updatedAt: 1 }, { name: 'B', sealed: box.seal('A', 'value-b'), createdAt: 1, updatedAt: 1 }];
  const asked: (readonly string[])[] = [];
  const source = storeSecrets({ getSecrets: async (names) => { asked.push(names); return rows.filter((r) => names.includes(r.name)); } }, box);

  it('opens each named secret once, with one read', async () => {
    asked.length = 0;
    assert.deepEqual([...await source.resolve(['A', 'A'])], [['A', 'value-a']]);
    assert.deepEqual(asked, [['A']]);
    assert.equal((await source.resolve([])).size, 0);
    assert.equal(asked.length, 1, 'no read for no names');
  });

  it('names a missing secret and how to set it', async () => {
    await assert.rejects(source.resolve(['A', 'C']), (e: unknown) => e instanceof SecretMissingError && e.secret === 'C'
      && e.message === 'secret C does not exist (any more): wharf secret set C');
  });

  it('lets a decrypt failure through, naming the secret only', async () => {
    // B was sealed under the name A: it does not open as B.
    await assert.rejects(source.resolve(['B']), (e: unknown) => e instanceof SecretDecryptError && e.secret === 'B' && !e.message.includes('value-b'));
  });
});
