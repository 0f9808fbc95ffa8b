// A restarted worker takes over a run that is still going: a new backend on the same instance
// (its own engine client) lists it, follows its logs from a cursor, and sees its end.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunLogChunk } from '../../src/backends/types.js';
import { output, setup, type Ctx } from './docker-helpers.js';

describe('docker backend: adoption', () => {
  let ctx: Ctx;
  const host = mkdtempSync(join(tmpdir(), 'wharf-docker-adopt-'));
  before(async () => { ctx = await setup('adopt'); });
  after(async () => {
    await ctx.cleanup();
    rmSync(host, { recursive: true, force: true });
  });

  it('hands a running run over to a new backend instance, with no output lost or repeated', async () => {
    // Ends with 7 on SIGUSR1, writing its outputs first.
    const script = 'trap \'echo bye; echo done > /out/r; exit 7\' USR1; echo one; echo two >&2; while true; do sleep 0.05; done';
    await ctx.backend.start(ctx.req('adopted', ['sh', '-c', script], { outputs: [{ from: '/out', to: host }] }));
    const seen: RunLogChunk[] = [];
    for await (const c of ctx.backend.logs('adopted', { follow: true })) {
      seen.push(c);
      if (seen.length === 2) break;
    }
    await ctx.backend.close(); // the first worker goes away; its run goes on

    const b = ctx.other();
    const owned = await b.backend.listOwned({});
    assert.deepEqual(owned.map((o) => [o.runId, o.state.phase]), [['adopted', 'running']]);
    assert.equal((await b.backend.inspect('adopted'))?.phase, 'running');
    const reading = output(b.backend, 'adopted', seen.at(-1)?.cursor);
    const ids = await b.engine.request<{ Id: string }[]>('GET', '/containers/json', { query: { filters: { name: ['wharf-adopted'] } } });
    await b.engine.request('POST', `/containers/${ids[0]?.Id ?? 'none'}/kill`, { query: { signal: 'USR1' } });
    const [rest, exit] = await Promise.all([reading, b.rec.ended('adopted')]);
    assert.deepEqual(exit, { kind: 'exited', code: 7 });
    assert.equal(rest.stdout.toString(), 'bye\n');
    assert.equal(rest.stderr.toString(), '');
    assert.deepEqual(seen.map((c) => [c.stream, c.data.toString()]).sort(), [['stderr', 'two\n'], ['stdout', 'one\n']]);
    assert.equal(readFileSync(join(host, 'out', 'r'), 'utf8'), 'done\n'); // the new instance copied the outputs
    await b.backend.remove('adopted');
    assert.deepEqual(await ctx.containers(), []);
  });

  it('reads the end of a run that finished while no backend was watching', async () => {
    const a = ctx.other();
    await a.backend.start(ctx.req('unwatched', ['sh', '-c', 'echo x; exit 9']));
    await a.rec.ended('unwatched');
    await a.backend.close();
    const b = ctx.other();
    const s = await b.backend.inspect('unwatched');
    assert.deepEqual(s?.phase === 'ended' && s.exit, { kind: 'exited', code: 9 });
    assert.equal((await output(b.backend, 'unwatched')).stdout.toString(), 'x\n');
  });
});
