// Credentials: Docker config.json parsing (every key form), Wharf's plain map, the pull-secret and
// X-Registry-Auth encodings, and that nothing holding a password ever prints it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  CredentialsError,
  DockerConfigCredentialStore,
  dockerConfigJson,
  MapCredentialStore,
  registryAuthHeader,
  RegistryClient,
  registryCredentials,
} from '../../src/builders/registry/index.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const PASSWORD = 'pa:ss-Wörd/+=';

const CONFIG = JSON.stringify({
  auths: {
    'plain.example': { auth: b64(`plain:${PASSWORD}`) },
    'ported.example:5000': { auth: b64('ported:p2') },
    'https://url.example/v1/': { auth: b64('url:p3') },
    'http://http.example:8080': { auth: b64('http:p4') },
    'https://index.docker.io/v1/': { auth: b64('hub:p5') },
    'fields.example': { username: 'fields', password: 'p6' },
    'helper.example': {},
    'https://both.example/v1/': { auth: b64('url-form:x') },
    'both.example': { auth: b64('host-form:y') },
  },
  credsStore: 'desktop',
  credHelpers: { 'gcr.io': 'gcloud' },
});

describe('Docker config.json credentials', () => {
  const store = DockerConfigCredentialStore.fromJson(CONFIG);
  const user = (host: string): string | undefined => store.get(host)?.username;

  it('matches host, host:port, URL keys and base64 auth', () => {
    assert.deepEqual({ ...store.get('plain.example') }, { username: 'plain', password: PASSWORD });
    assert.equal(user('PLAIN.example'), 'plain');
    assert.equal(store.get('ported.example:5000')?.password, 'p2');
    assert.equal(user('ported.example'), undefined, 'a key with a port matches only that port');
    assert.equal(user('ported.example:5001'), undefined);
    assert.equal(store.get('url.example')?.password, 'p3');
    assert.equal(store.get('http.example:8080')?.password, 'p4');
    assert.equal(user('http.example'), undefined);
    assert.deepEqual({ ...store.get('fields.example') }, { username: 'fields', password: 'p6' });
    assert.equal(user('unknown.example'), undefined);
  });

  it("matches Docker Hub's key for every name of Docker Hub", () => {
    for (const h of ['docker.io', 'registry-1.docker.io', 'index.docker.io', 'https://index.docker.io/v1/']) assert.equal(user(h), 'hub', h);
  });

  it('prefers an exact host key over a URL key for the same host, whatever the order', () => {
    assert.equal(user('both.example'), 'host-form');
  });

  it('skips entries a credential helper holds and lists the helpers it cannot run', () => {
    assert.equal(user('helper.example'), undefined);
    assert.deepEqual(store.unsupportedHelpers, ['credsStore desktop', 'credHelpers gcr.io']);
  });

  it('reads a file, and reports bad files and entries without their content', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-dockercfg-'));
    try {
      const path = join(dir, 'config.json');
      writeFileSync(path, CONFIG);
      assert.equal((await DockerConfigCredentialStore.fromFile(path)).get('docker.io')?.username, 'hub');
      await assert.rejects(DockerConfigCredentialStore.fromFile(join(dir, 'missing.json')), (e: unknown) =>
        e instanceof CredentialsError && e.message === `cannot read docker config ${join(dir, 'missing.json')} (ENOENT)`);
      writeFileSync(path, `{"auths": {"x": {"auth": "${PASSWORD}"`);
      await assert.rejects(DockerConfigCredentialStore.fromFile(path), (e: unknown) =>
        e instanceof CredentialsError && e.message === `${path} is not valid JSON` && !e.message.includes(PASSWORD));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const badAuth = (auth: string): unknown => DockerConfigCredentialStore.fromJson(JSON.stringify({ auths: { 'r.example': { auth } } }), 'cfg.json');
    for (const auth of ['not base64!', b64('no-colon'), b64(`:${PASSWORD}`)]) {
      assert.throws(() => badAuth(auth), (e: unknown) =>
        e instanceof CredentialsError && e.message === 'cfg.json: auths["r.example"].auth must be base64 of "username:password"');
    }
    assert.throws(() => DockerConfigCredentialStore.fromJson('{"auths": []}'), /"auths" must be an object/);
    assert.throws(() => DockerConfigCredentialStore.fromJson('{"auths": {"a": 1}}'), /auths\["a"\] must be an object/);
    assert.equal(DockerConfigCredentialStore.fromJson('{}').hosts().length, 0);
  });
});

describe('plain map credentials', () => {
  it('looks hosts up the same way, Docker Hub aliases included', () => {
    const store = new MapCredentialStore({ 'localhost:5000': { username: 'a', password: 'pa' }, 'https://index.docker.io/v1/': { username: 'h', password: 'ph' } });
    assert.equal(store.get('localhost:5000')?.password, 'pa');
    assert.equal(store.get('127.0.0.1:5000'), undefined, 'two names of one registry are two keys');
    assert.equal(store.get('docker.io')?.username, 'h');
    assert.deepEqual(new MapCredentialStore(new Map([['r', { username: 'u', password: 'p' }]])).hosts(), ['r']);
  });
});

describe('credential encodings', () => {
  it('writes a .dockerconfigjson that Docker and kubelet read back', () => {
    const text = dockerConfigJson({ 'localhost:5000': { username: 'alice', password: PASSWORD }, 'docker.io': { username: 'bob', password: 'b' } });
    const doc = JSON.parse(text) as { auths: Record<string, { auth: string }> };
    assert.deepEqual(Object.keys(doc.auths), ['localhost:5000', 'https://index.docker.io/v1/']);
    assert.equal(Buffer.from(doc.auths['localhost:5000']!.auth, 'base64').toString(), `alice:${PASSWORD}`);
    const back = DockerConfigCredentialStore.fromJson(text);
    assert.equal(back.get('localhost:5000')?.password, PASSWORD);
    assert.equal(back.get('registry-1.docker.io')?.username, 'bob');
    assert.throws(() => dockerConfigJson({ 'docker.io': { username: 'a', password: 'b' }, 'index.docker.io': { username: 'c', password: 'd' } }),
      /two entries for registry https:\/\/index\.docker\.io\/v1\//);
  });

  it("encodes X-Registry-Auth as Docker Engine decodes it (padded base64url JSON)", () => {
    const value = registryAuthHeader({ username: 'alice', password: '??>>~~' }, 'localhost:5000');
    assert.match(value, /^[A-Za-z0-9_-]+=*$/);
    assert.equal(value.length % 4, 0);
    assert.deepEqual(JSON.parse(Buffer.from(value, 'base64url').toString()), { username: 'alice', password: '??>>~~', serveraddress: 'localhost:5000' });
    const hub = JSON.parse(Buffer.from(registryAuthHeader({ username: 'u', password: 'p' }, 'docker.io'), 'base64url').toString()) as { serveraddress: string };
    assert.equal(hub.serveraddress, 'https://index.docker.io/v1/');
  });
});

describe('redaction', () => {
  it('no holder of credentials shows the password in JSON, String() or util.inspect', () => {
    const creds = registryCredentials('alice', PASSWORD);
    const holders: unknown[] = [
      creds,
      new MapCredentialStore({ 'localhost:5000': { username: 'alice', password: PASSWORD } }),
      DockerConfigCredentialStore.fromJson(CONFIG),
      new RegistryClient({ credentials: DockerConfigCredentialStore.fromJson(CONFIG) }),
      { nested: { creds } },
    ];
    for (const h of holders) {
      for (const shown of [JSON.stringify(h), String(h), inspect(h, { depth: 10, showHidden: true }), `${inspect(h)}`]) {
        assert.ok(!shown.includes(PASSWORD), shown);
        assert.ok(!shown.includes(b64(`plain:${PASSWORD}`)), shown);
        assert.ok(!shown.includes('p6'), shown);
      }
    }
    assert.equal(JSON.stringify(creds), '{"username":"alice","password":"<redacted>"}');
    assert.equal(String(creds), 'RegistryCredentials(alice)');
    // The fields themselves stay usable.
    assert.equal(creds.password, PASSWORD);
    assert.deepEqual({ ...creds }, { username: 'alice', password: PASSWORD });
  });
});
