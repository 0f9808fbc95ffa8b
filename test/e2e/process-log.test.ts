// `wharf serve` logs JSON lines (pino) on stderr: what its worker did with each attempt, with the
// job, task and attempt ids, at the level asked for; and never a database password.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jobEnd, submit } from '../helpers/api.js';
import { cliEnv, runCli, startServer, tempHome, type Server } from '../helpers/cli.js';

type Line = Record<string, unknown>;

function lines(text: string): Line[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Line);
}

describe('e2e: the process log', () => {
  const home = tempHome('wharf-plog-');
  const env = cliEnv({ WHARF_HOME: home.dir });
  let server: Server | undefined;
  after(async () => {
    await server?.stop();
    home.cleanup();
  });

  it('says what happened to each attempt, as JSON with its ids', async () => {
    server = await startServer(['--log-level', 'info'], env);
    const job = await submit(server, { name: 'logged', tasks: { a: { command: ['sh', '-c', 'exit 3'] } } });
    await jobEnd(server, job.id);
    await server.stop();
    const all = lines(server.stderr());
    assert.ok(all.every((l) => typeof l.level === 'string' && typeof l.time === 'number' && typeof l.msg === 'string'));
    const mine = all.filter((l) => l.jobId === job.id);
    assert.deepEqual(mine.map((l) => l.msg), ['attempt claimed', 'attempt running', 'attempt ended']);
    const end = mine.at(-1);
    assert.equal(end?.task, 'a');
    assert.equal(end?.attempt, 1);
    assert.equal(end?.outcome, 'exited');
    assert.equal(end?.component, 'worker');
    assert.match(String(end?.attemptId), /./);
    server = undefined;
  });

  it('keeps to warnings at --log-level warn, and refuses an unknown level', async () => {
    server = await startServer(['--log-level', 'warn'], env);
    const job = await submit(server, { name: 'quiet', tasks: { a: { command: ['true'] } } });
    await jobEnd(server, job.id);
    assert.deepEqual(lines(server.stderr()).filter((l) => l.level !== 'warn' && l.level !== 'error' && !String(l.msg).startsWith('listening on')), []);
    const bad = await runCli(['serve', '--log-level', 'loud'], { env });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--log-level \(WHARF_LOG_LEVEL\): expected one of debug, info, warn, error, got "loud"/);
  });
});
