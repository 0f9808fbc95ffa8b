// Log entries → chunks with cursors: timestamps, resuming, and Docker's 16 KiB line split. Pure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DOCKER_SPLIT_BYTES, LogEntries, parseCursor, sinceParam, timestampNs } from '../../src/backends/docker/log-entries.js';
import type { RunLogChunk } from '../../src/backends/types.js';

type In = ['stdout' | 'stderr', string, Buffer | string];

function run(entries: In[], opts: { after?: string; restore?: boolean } = {}): RunLogChunk[] {
  const le = new LogEntries({ after: opts.after === undefined ? undefined : parseCursor(opts.after), restoreSplitNewlines: opts.restore ?? false });
  const out: RunLogChunk[] = [];
  for (const [s, ts, data] of entries) {
    const c = le.push(s, Buffer.concat([Buffer.from(`${ts} `), Buffer.from(data)]));
    if (c) out.push(c);
  }
  return out;
}

describe('docker log entries', () => {
  it('reads RFC 3339 nano timestamps, with trimmed zeros and offsets', () => {
    assert.equal(timestampNs('2026-11-23T15:09:14.137018214Z'), 1_795_446_554_137_018_214n);
    assert.equal(timestampNs('2026-11-23T15:09:14.1Z'), 1_795_446_554_100_000_000n);
    assert.equal(timestampNs('2026-11-23T15:09:14Z'), 1_795_446_554_000_000_000n);
    assert.equal(timestampNs('2026-11-23T16:09:14.5+01:00'), 1_795_446_554_500_000_000n);
    assert.equal(timestampNs('yesterday'), undefined);
  });

  it('moves the timestamp into cursor and time, keeping the bytes exact', () => {
    const got = run([['stdout', '2026-11-23T15:09:14.137018214Z', Buffer.from([0xff, 0x00, 0x20, 0x0a])], ['stderr', '2026-11-23T15:09:14.2Z', 'e\n']]);
    assert.deepEqual(got, [
      { stream: 'stdout', time: 1_795_446_554_137, data: Buffer.from([0xff, 0x00, 0x20, 0x0a]), cursor: '2026-11-23T15:09:14.137018214Z' },
      { stream: 'stderr', time: 1_795_446_554_200, data: Buffer.from('e\n'), cursor: '2026-11-23T15:09:14.2Z' },
    ]);
  });

  it('counts entries that share a timestamp in the cursor, and resumes exactly after any of them', () => {
    const t = '2026-11-23T15:09:14.5Z';
    const entries: In[] = [['stdout', '2026-11-23T15:09:14.4Z', 'a\n'], ['stdout', t, 'b'], ['stdout', t, 'c'], ['stdout', t, 'd\n'], ['stderr', '2026-11-23T15:09:15Z', 'e\n']];
    const all = run(entries);
    assert.deepEqual(all.map((c) => c.cursor), ['2026-11-23T15:09:14.4Z', t, `${t}#1`, `${t}#2`, '2026-11-23T15:09:15Z']);
    for (const [i, c] of all.entries()) {
      const rest = run(entries, { after: c.cursor });
      assert.deepEqual(rest, all.slice(i + 1), `after ${c.cursor}`);
    }
  });

  it('asks the engine for the cursor\'s second', () => {
    assert.equal(sinceParam(parseCursor('2026-11-23T15:09:14.5Z#3')), '1795446554');
    assert.throws(() => parseCursor('nope'), /invalid log cursor/);
    assert.throws(() => parseCursor('2026-11-23T15:09:14.5Z#x'), /invalid log cursor/);
  });

  it('puts back the newline the local driver drops after a split line', () => {
    const t = '2026-11-23T15:09:14.5Z';
    const piece = 'x'.repeat(DOCKER_SPLIT_BYTES);
    const got = run([['stdout', t, piece], ['stdout', t, piece], ['stdout', t, 'tail'], ['stdout', '2026-11-23T15:09:15Z', 'next\n'],
      ['stderr', '2026-11-23T15:09:16Z', piece], ['stderr', '2026-11-23T15:09:16Z', '']], { restore: true });
    const text = (s: string): string => got.filter((c) => c.stream === s).map((c) => c.data.toString()).join('');
    assert.equal(text('stdout'), `${piece}${piece}tail\nnext\n`);
    assert.equal(text('stderr'), `${piece}\n`); // a line of exactly 16 KiB: its newline came as an empty entry
    // Without the local driver nothing is added.
    const plain = run([['stdout', t, piece], ['stdout', t, 'tail\n']]);
    assert.equal(plain.map((c) => c.data.toString()).join(''), `${piece}tail\n`);
  });
});
