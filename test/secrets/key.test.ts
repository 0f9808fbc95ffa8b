// Loading the secret key: the env var wins, the key file is made once (0600, by exactly one of
// racing processes) and refused when loose or malformed; no error shows a key.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { loadOrCreateKey, SECRET_KEY_ENV, SecretKeyError } from '../../src/secrets/index.js';

const hash = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function keyError(p: Promise<unknown>, source: string, message: RegExp, ...hidden: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SecretKeyError, `expected a SecretKeyError, got ${String(e)}`);
    assert.equal(e.source, source);
    assert.match(e.message, message);
    const text = `${String(e)}\n${inspect(e, { showHidden: true })}`;
    for (const h of hidden.filter((x) => x !== '')) assert.ok(!text.includes(h), `the key shows in ${JSON.stringify(text)}`);
    return true;
  });
}

describe('loadOrCreateKey', () => {
  let root: string;
  let n = 0;
  const home = (): string => join(root, `home-${++n}`);
  before(() => { root = mkdtempSync(join(tmpdir(), 'wharf-secret-key-')); });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('creates <home>/secret.key with mode 0600 on first use, then reuses it', async () => {
    const h = join(home(), 'nested');
    const key = await loadOrCreateKey({ home: h, env: {} });
    assert.equal(key.length, 32);
    const file = join(h, 'secret.key');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(h).mode & 0o777, 0o700);
    assert.deepEqual(readFileSync(file), key);
    assert.deepEqual(await loadOrCreateKey({ home: h, env: {} }), key);
    assert.deepEqual(readdirSync(h), ['secret.key'], 'no temp file left behind');
  });

  it('uses keyFile instead of the default path', async () => {
    const h = home();
    const file = join(h, 'elsewhere', 'k.bin');
    const key = await loadOrCreateKey({ home: h, keyFile: file, env: {} });
    assert.deepEqual(readFileSync(file), key);
    assert.equal(existsSync(join(h, 'secret.key')), false);
  });

  it('refuses a key file group or others can access, with the chmod that fixes it', async () => {
    const h = home();
    const file = join(h, 'secret.key');
    const key = await loadOrCreateKey({ home: h, env: {} });
    for (const mode of [0o644, 0o640, 0o604, 0o620, 0o602, 0o610]) {
      chmodSync(file, mode);
      const shownMode = mode.toString(8).padStart(4, '0');
      await keyError(loadOrCreateKey({ home: h, env: {} }), file, new RegExp(`mode ${shownMode}\\); run: chmod 600 ${file}$`), key.toString('hex'), key.toString('base64'));
    }
    chmodSync(file, 0o400);
    assert.deepEqual(await loadOrCreateKey({ home: h, env: {} }), key, 'owner read-only is fine');
  });

  it('refuses a key file that is not exactly 32 bytes, or not a file', async () => {
    const h = home();
    mkdirSync(h);
    const file = join(h, 'secret.key');
    for (const content of [Buffer.alloc(0), randomBytes(31), randomBytes(33), Buffer.from(`${randomBytes(32).toString('base64')}\n`)]) {
      writeFileSync(file, content, { mode: 0o600 });
      await keyError(loadOrCreateKey({ home: h, env: {} }), file, new RegExp(`exactly 32 raw bytes, it holds ${content.length} `), content.toString('base64'));
      assert.deepEqual(readFileSync(file), content, 'a bad key file is left as it was');
    }
    rmSync(file);
    mkdirSync(file);
    await keyError(loadOrCreateKey({ home: h, env: {} }), file, /not a regular file/);
  });

  it(`takes ${SECRET_KEY_ENV} over any key file, and then never touches the file`, async () => {
    const envKey = randomBytes(32);
    const env = { [SECRET_KEY_ENV]: envKey.toString('base64') };
    const h = home();
    assert.deepEqual(await loadOrCreateKey({ home: h, env }), envKey);
    assert.equal(existsSync(h), false, 'no key file made');
    await loadOrCreateKey({ home: h, env: {} });
    chmodSync(join(h, 'secret.key'), 0o644); // even a refused file does not matter
    assert.deepEqual(await loadOrCreateKey({ home: h, env }), envKey);
    assert.deepEqual(await loadOrCreateKey({ home: h, env: { [SECRET_KEY_ENV]: ` ${envKey.toString('base64')}\n` } }), envKey);
  });

  it(`refuses a ${SECRET_KEY_ENV} that is empty, not base64 or not 32 bytes, without echoing it`, async () => {
    const h = home();
    const cases: [string, RegExp][] = [
      ['', /is set but empty/],
      ['   ', /is set but empty/],
      [`${randomBytes(32).toString('hex')}`, /not valid base64|decodes to 48 bytes/],
      [`${randomBytes(32).toString('base64url')}`.replace(/^./, '-'), /not valid base64/],
      ['c2VjcmV0IGtleSBtYXRlcmlhbA==*', /not valid base64/],
      [randomBytes(16).toString('base64'), /decodes to 16 bytes; expected the base64 of 32 random bytes/],
      [randomBytes(33).toString('base64'), /decodes to 33 bytes/],
    ];
    for (const [value, message] of cases) {
      await keyError(loadOrCreateKey({ home: h, env: { [SECRET_KEY_ENV]: value } }), SECRET_KEY_ENV, message, ...(value.trim() ? [value.trim()] : []));
    }
    assert.equal(existsSync(h), false, 'a bad env key never falls back to a key file');
  });

  it('gives every caller racing in one process the same key', async () => {
    const h = home();
    const keys = await Promise.all(Array.from({ length: 16 }, () => loadOrCreateKey({ home: h, env: {} })));
    assert.equal(new Set(keys.map(hash)).size, 1);
    assert.deepEqual(readFileSync(join(h, 'secret.key')), keys[0]);
    assert.deepEqual(readdirSync(h), ['secret.key']);
  });

  it('gives processes racing to create the key file one key', { timeout: 30_000 }, async () => {
    const h = home();
    const keyModule = new URL('../../src/secrets/key.js', import.meta.url).href;
    // Each child loads its module first, says "ready", and creates the key only on "go", so the
    // creations overlap as much as the machine allows.
    const script = `
      import { loadOrCreateKey } from ${JSON.stringify(keyModule)};
      import { createHash } from 'node:crypto';
      console.log('ready');
      process.stdin.once('data', async () => {
        const key = await loadOrCreateKey({ home: ${JSON.stringify(h)}, env: {} });
        console.log(createHash('sha256').update(key).digest('hex'));
        process.exit(0);
      });`;
    const children: ChildProcess[] = [];
    try {
      const lines = [];
      for (let i = 0; i < 6; i++) {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
        children.push(child);
        lines.push(createInterface({ input: child.stdout! })[Symbol.asyncIterator]());
      }
      for (const l of lines) assert.equal((await l.next()).value, 'ready');
      for (const c of children) c.stdin!.write('go\n');
      const hashes = await Promise.all(lines.map(async (l) => (await l.next()).value as string));
      await Promise.all(children.map(async (c) => { if (c.exitCode === null) await once(c, 'exit'); }));
      assert.deepEqual(children.map((c) => c.exitCode), [0, 0, 0, 0, 0, 0]);
      assert.equal(new Set(hashes).size, 1, `different keys: ${hashes.join(', ')}`);
      assert.equal(hashes[0], hash(readFileSync(join(h, 'secret.key'))));
      assert.deepEqual(readdirSync(h), ['secret.key']);
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
  });
});
