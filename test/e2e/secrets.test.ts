// A secret end to end through the real `wharf` processes: set from stdin, given to the one task
// that names it, masked (value and base64, also split across writes) in the live stream, the
// stored log, the API and the CLI; its value nowhere under WHARF_HOME, the database included.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LogEntry } from '../../src/spec/api.js';
import { allLogs, api, jobEnd, submit } from '../helpers/api.js';
import { cliEnv, runCli, startServer, tempHome, type Server } from '../helpers/cli.js';
import { untilFrame } from '../helpers/sse.js';

const VALUE = 'Sup3r-s3cret-v4lue!';
const B64 = Buffer.from(VALUE).toString('base64');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('e2e: task secrets', () => {
  const home = tempHome('wharf-secrets-');
  const env = cliEnv({ WHARF_HOME: home.dir });
  let server: Server | undefined;
  after(async () => {
    await server?.stop();
    home.cleanup();
  });

  it('is set from stdin and listed by name only', async () => {
    const set = await runCli(['secret', 'set', 'API_KEY'], { env, input: `${VALUE}\n` });
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, 'secret API_KEY: created\n');
    const list = await runCli(['secret', 'list', '--json'], { env });
    assert.deepEqual((JSON.parse(list.stdout) as { name: string }[]).map((s) => s.name), ['API_KEY']);
    assert.ok(!list.stdout.includes(VALUE));
    const short = await runCli(['secret', 'set', 'TINY'], { env, input: 'abc' });
    assert.equal(short.code, 1);
    assert.match(short.stderr, /at least 4/);
  });

  it('reaches only the task that names it, masked everywhere its output goes', async () => {
    server = await startServer([], env);
    const srv = server;
    const script = 'echo "key=$API_KEY"; printf %s "$API_KEY" | base64; printf "split:%s" "${API_KEY%???????}"; sleep 0.2; printf "%s\\n" "${API_KEY#????????????}"; echo "other=${OTHER:-unset}"';
    const job = await submit(srv, {
      name: 'secret-job',
      tasks: {
        uses: { command: ['sh', '-c', script], secrets: ['API_KEY'] },
        without: { command: ['sh', '-c', 'echo "key=${API_KEY:-none}"'] },
      },
    });
    // The live stream, from the first entry to the end.
    const live: string[] = [];
    await untilFrame(`${srv.url}/api/v1/jobs/${job.id}/logs?follow=true`, (f) => {
      if (f.event === 'log') live.push((JSON.parse(f.data) as LogEntry).text);
      return f.event === 'end';
    });
    const end = await jobEnd(srv, job.id);
    assert.equal(end.state, 'succeeded');
    const stored = (await allLogs(srv, job.id, 'uses')).filter((e) => e.stream === 'stdout').map((e) => e.text).join('');
    assert.equal(stored, 'key=***\n***\nsplit:***\nother=unset\n');
    const others = (await allLogs(srv, job.id, 'without')).filter((e) => e.stream === 'stdout').map((e) => e.text).join('');
    assert.equal(others, 'key=none\n');
    const liveText = live.join('');
    for (const text of [liveText, JSON.stringify(await api(srv, `/jobs/${job.id}`)), stored]) {
      assert.ok(!text.includes(VALUE) && !text.includes(B64), text);
    }
    assert.match(liveText, /key=\*\*\*/);
    const cli = await runCli(['logs', job.id, 'uses'], { env: { ...env, WHARF_URL: srv.url } });
    assert.equal(cli.code, 0, cli.stderr);
    assert.ok(cli.stdout.includes('key=***') && !cli.stdout.includes(VALUE));
  });

  it('leaves its value nowhere under WHARF_HOME (database, its journal, run directories)', async () => {
    await server?.stop();
    server = undefined;
    const files = filesUnder(home.dir);
    assert.ok(files.some((f) => f.endsWith('wharf.db')));
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const form of [VALUE, B64]) assert.equal(bytes.indexOf(form), -1, `${form} in ${f}`);
    }
  });

  it('refuses a job naming a secret that does not exist, at submit', async () => {
    const r = await runCli(['run', '--', 'true'], { env });
    assert.equal(r.code, 0, r.stderr);
    const file = join(home.dir, 'missing.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, 'name: m\ntasks:\n  a:\n    command: [env]\n    secrets: [NOPE]\n');
    const bad = await runCli(['submit', file], { env });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /tasks\.a\.secrets\[0\]: no secret "NOPE": create it with `wharf secret set NOPE`/);
  });
});
