// Cancel, a server killed mid-run, and a task that writes 100 MB — against real `wharf serve`.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { cliEnv, runCli, startServer, tempHome, type Server } from '../helpers/cli.js';
import { api, submit, untilLog, waitForEvent } from '../helpers/api.js';
import type { JobView } from '../../src/spec/api.js';

/** A zombie counts as gone: nothing here reaps orphans re-parented to pid 1. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('cancel', () => {
  const home = tempHome();
  let server: Server;
  after(async () => { await server?.stop(); home.cleanup(); });

  test('stops a running sleep and its whole process group within 1 s; the job ends canceled', async () => {
    server = await startServer([], cliEnv({ WHARF_HOME: home.dir }));
    const pids = join(home.dir, 'pids');
    const job = await submit(server, {
      name: 'sleepy',
      tasks: { nap: { command: ['sh', '-c', `sleep 100 & echo $$ $! > ${pids}; echo started; wait`] } },
    });
    // The shell writes its pids first; its "started" line shows it has.
    await untilLog(server, job.id, 'started');
    const [shPid, sleepPid] = readFileSync(pids, 'utf8').trim().split(' ').map(Number) as [number, number];
    assert.ok(alive(shPid) && alive(sleepPid));
    const t0 = Date.now();
    const ended = waitForEvent(server, job.id, (e) => e.type === 'job_state' && e.to === 'canceled');
    await api(server, `/jobs/${job.id}/cancel`, { method: 'POST' });
    await ended;
    const elapsed = Date.now() - t0;
    assert.ok(elapsed < 1000, `cancel took ${elapsed} ms`);
    assert.ok(!alive(shPid) && !alive(sleepPid), 'the whole process group is gone');
    const final = await api<JobView>(server, `/jobs/${job.id}`);
    assert.equal(final.state, 'canceled');
    assert.equal(final.tasks[0]?.state, 'canceled');
    assert.equal(final.tasks[0]?.attempts[0]?.outcome?.kind, 'canceled');
  });
});

describe('server killed mid-run', () => {
  const home = tempHome();
  let server: Server | undefined;
  after(async () => { await server?.stop(); home.cleanup(); });

  test('the lost attempt is detected and retried once; no attempt ran twice at the same time', async () => {
    const env = cliEnv({ WHARF_HOME: home.dir });
    server = await startServer(['--lease', '1s'], env);
    const lock = join(home.dir, 'lock');
    const started = join(home.dir, 'started');
    // flock -n fails (exit 99) if another attempt still holds the lock: overlap fails the job.
    const job = await submit(server, {
      name: 'survivor',
      tasks: {
        long: {
          retries: { limit: 1, backoff: { initial: '10ms' } },
          command: ['flock', '-n', '-E', '99', lock, 'sh', '-c', `echo "$WHARF_ATTEMPT $$" >> ${started}; echo started; sleep 2`],
        },
      },
    });
    await untilLog(server, job.id, 'started');
    server.child.kill('SIGKILL');
    await once(server.child, 'exit');
    server = await startServer(['--lease', '1s'], env);
    const end = await waitForEvent(server, job.id, (e) => e.type === 'job_state' && (e.to === 'succeeded' || e.to === 'failed'));
    assert.equal(end.type === 'job_state' && end.to, 'succeeded');
    const final = await api<JobView>(server, `/jobs/${job.id}`);
    const attempts = final.tasks[0]?.attempts ?? [];
    assert.deepEqual(attempts.map((a) => a.outcome), [{ kind: 'lost', reason: 'worker lost' }, { kind: 'succeeded' }]);
    const lines = existsSync(started) ? readFileSync(started, 'utf8').trim().split('\n') : [];
    assert.equal(lines.length, 2, 'attempt 2 ran (and attempt 1 never overlapped it: flock)');
    const pid1 = Number(lines[0]?.split(' ')[1]);
    assert.ok(!alive(pid1), 'the first attempt was killed');
  });
});

describe('big output', () => {
  const home = tempHome();
  let server: Server | undefined;
  after(async () => { await server?.stop(); home.cleanup(); });

  test('100 MB of output: the log is capped with a marker and RSS stays bounded', async () => {
    server = await startServer(['--log-cap', '8Mi'], cliEnv({ WHARF_HOME: home.dir }));
    const rssKb = (field: string): number => {
      const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${server!.child.pid}/status`, 'utf8'));
      return Number(m?.[1]);
    };
    const before = rssKb('VmRSS');
    const job = await submit(server, { name: 'big', tasks: { flood: { command: ['sh', '-c', 'head -c 100000000 /dev/zero | tr "\\0" "x"; echo; echo done'] } } });
    const end = await waitForEvent(server, job.id, (e) => e.type === 'job_state' && e.to !== 'running' && e.to !== 'queued');
    assert.equal(end.type === 'job_state' && end.to, 'succeeded');
    const grownMb = (rssKb('VmHWM') - before) / 1024;
    assert.ok(grownMb < 100, `RSS grew by ${grownMb.toFixed(1)} MB`);
    const final = await api<JobView>(server, `/jobs/${job.id}`);
    const a = final.tasks[0]?.attempts[0];
    assert.equal(a?.logBytes, 8 * 1024 * 1024);
    assert.equal(a?.logTruncated, true);
    const r = await runCli(['logs', job.id, 'flood'], { env: cliEnv({ WHARF_HOME: home.dir, WHARF_URL: server.url }) });
    assert.equal(r.code, 0);
    assert.equal(r.stdout.length, 8 * 1024 * 1024);
    assert.match(r.stderr, /\[wharf\] log truncated: the 8 MiB cap was reached/);
    assert.match(r.stderr, /\[wharf\] 91611398 bytes of output were dropped/);
  });
});
