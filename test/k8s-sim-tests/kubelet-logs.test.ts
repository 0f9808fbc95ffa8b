// The simulator's kubelet: pods/log as the kubelet streams it (logs/pods-log-exchanges.txt and
// errors/400-log-container-waiting.json), and pods/attach to a `stdin: true` container.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { LogOptions, Status } from '../k8s-sim/types.js';
import { pod, readAll, sh, testbed, type Testbed } from '../k8s-sim/kubelet/testbed.js';

const TS = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z';
const base: LogOptions = { follow: false, timestamps: false, previous: false };

describe('k8s-sim kubelet: logs and attach', () => {
  let tb: Testbed;
  before(async () => { tb = await testbed(); });
  after(() => tb.close());

  async function text(name: string, opts: Partial<LogOptions> = {}): Promise<string> {
    const r = await tb.kubelet.logs('default', name, { ...base, ...opts });
    if (!(r instanceof Readable)) throw new Error(`refused: ${JSON.stringify(r)}`);
    return (await readAll(r)).toString('utf8');
  }
  async function refusal(name: string, opts: Partial<LogOptions> = {}): Promise<Status> {
    const r = await tb.kubelet.logs('default', name, { ...base, ...opts });
    assert.ok(!(r instanceof Readable), 'a Status, not a stream');
    return r;
  }

  it('gives the raw bytes, or each line once behind a fixed-width nanosecond timestamp', async () => {
    tb.run(pod('ts', [sh(tb.busybox, 'printf "a\\n\\n"; head -c 40000 /dev/zero | tr "\\0" x; echo; printf "no newline"')]));
    await tb.phase('ts', 'Succeeded');
    assert.equal(await text('ts'), `a\n\n${'x'.repeat(40000)}\nno newline`);
    const stamped = await text('ts', { timestamps: true });
    // The 40000-byte line comes from Docker in 16 KiB pieces, yet gets one prefix.
    assert.match(stamped, new RegExp(`^${TS} a\\n${TS} \\n${TS} x{40000}\\n${TS} no newline$`));
  });

  it('applies sinceTime to the line, at the whole second the API server forwards', async () => {
    tb.run(pod('since', [sh(tb.busybox, 'echo a; sleep 1.1; echo b; sleep 1.1; echo c')]));
    await tb.phase('since', 'Succeeded');
    const lines = (await text('since', { timestamps: true })).split('\n');
    const tsB = lines[1]?.split(' ')[0] ?? '';
    assert.match(tsB, new RegExp(`^${TS}$`));
    assert.equal(await text('since', { sinceTime: tsB }), 'b\nc\n');
    const second = Math.floor(Date.parse(tsB) / 1000);
    assert.equal(await text('since', { sinceTime: new Date(second * 1000).toISOString().replace('.000', '') }), 'b\nc\n');
    assert.equal(await text('since', { sinceTime: new Date((second + 1) * 1000).toISOString().replace('.000', '') }), 'c\n');
    assert.equal(await text('since', { sinceSeconds: 3600 }), 'a\nb\nc\n');
  });

  it('gives the last tailLines lines and cuts at limitBytes, prefixes included', async () => {
    tb.run(pod('seq', [sh(tb.busybox, 'seq 1 10')]));
    await tb.phase('seq', 'Succeeded');
    assert.equal(await text('seq', { tailLines: 3 }), '8\n9\n10\n');
    assert.equal(await text('seq', { tailLines: 0 }), '');
    assert.equal(await text('seq', { limitBytes: 5 }), '1\n2\n3');
    const all = await text('seq', { timestamps: true });
    assert.equal(await text('seq', { timestamps: true, limitBytes: 40 }), all.slice(0, 40));
  });

  it('follows a running container until it stops', async () => {
    tb.run(pod('follow', [sh(tb.busybox, 'echo 1; sleep 0.5; echo 2')]));
    await tb.phase('follow', 'Running', 'Succeeded');
    const r = await tb.kubelet.logs('default', 'follow', { ...base, follow: true });
    assert.ok(r instanceof Readable);
    assert.equal((await readAll(r)).toString(), '1\n2\n');
    assert.equal((await tb.phase('follow', 'Succeeded')).phase, 'Succeeded');
  });

  it('refuses with the kubelet\'s and the API server\'s 400s', async () => {
    tb.run(pod('creating', [sh(tb.busybox, 'true')], { volumes: [{ name: 's', secret: { secretName: 'not-there' } }] }));
    await tb.host.waitFor('default', 'creating', (s) => s.phase === 'Pending' && s.hostIP !== undefined);
    assert.deepEqual(await refusal('creating'), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'container "main" in pod "creating" is waiting to start: ContainerCreating', reason: 'BadRequest', code: 400 });
    assert.equal((await refusal('creating', { container: 'nope' })).message, 'container nope is not valid for pod creating');
    tb.run(pod('two', [sh(tb.busybox, 'true', { name: 'a' }), sh(tb.busybox, 'true', { name: 'b' })], { initContainers: [sh(tb.busybox, 'true', { name: 'i' })] }));
    assert.equal((await refusal('two')).message, 'a container name must be specified for pod two, choose one of: [a b] or one of the init containers: [i]');
    await tb.phase('two', 'Succeeded');
    assert.equal((await refusal('two', { container: 'a', previous: true })).message, 'previous terminated container "a" in pod "two" not found');
    assert.equal(await text('two', { container: 'i' }), '');
    const gone = await refusal('nobody');
    assert.deepEqual([gone.code, gone.reason, gone.message], [404, 'NotFound', 'pods "nobody" not found']);
    // Not bound to a node: 200 and nothing.
    tb.run(pod('huge', [sh(tb.busybox, 'true', { resources: { requests: { cpu: '64' } } })]));
    await tb.host.waitFor('default', 'huge', () => true);
    assert.equal(await text('huge'), '');
  });

  it('attaches to a stdin container: bytes reach cat intact, and closing stdin ends it', async () => {
    tb.run(pod('cat', [{ name: 'main', image: tb.busybox, command: ['sh', '-c', 'sha256sum; echo done >&2'], stdin: true, stdinOnce: true }]));
    await tb.phase('cat', 'Running');
    const a = await tb.kubelet.attach('default', 'cat', undefined);
    assert.ok('stdin' in a, JSON.stringify(a));
    const data = randomBytes(1 << 20);
    const [out, err] = [readAll(a.stdout), readAll(a.stderr)];
    a.stdin.end(data);
    assert.equal((await out).toString(), `${createHash('sha256').update(data).digest('hex')}  -\n`);
    assert.equal((await err).toString(), 'done\n');
    const s = await tb.phase('cat', 'Succeeded', 'Failed');
    assert.equal(s.phase, 'Succeeded');
    const late = await tb.kubelet.attach('default', 'cat', 'main');
    assert.ok(!('stdin' in late));
    assert.deepEqual([late.code, late.message], [500, 'container not found ("main")']);
  });
});
