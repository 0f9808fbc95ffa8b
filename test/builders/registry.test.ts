// The registry client against a real docker-registry (Debian's distribution 2.8) on loopback:
// Basic (htpasswd) and Bearer (token service) auth, digests, errors, push/pull host names.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  DockerConfigCredentialStore,
  dockerConfigJson,
  imageRefs,
  MapCredentialStore,
  parseRegistrySettings,
  RegistryClient,
  RegistryError,
  type RegistryErrorKind,
} from '../../src/builders/registry/index.js';
import { pushTestManifest, startRegistry, type TestRegistry } from '../infra/registry.js';

const PASSWORD = 'Corr3ct-H0rse:Battery';
const WRONG = 'wr0ng-Passw0rd-Stap1e';
const alice = { username: 'alice', password: PASSWORD };

function client(reg: TestRegistry, password = PASSWORD, extra: { now?: () => number } = {}): RegistryClient {
  return new RegistryClient({ credentials: new MapCredentialStore({ [reg.host]: { username: 'alice', password } }), timeoutMs: 5000, ...extra });
}

/** Asserts a RegistryError of `kind` whose message names host and repository and holds no secret. */
async function rejectsWith(p: Promise<unknown>, kind: RegistryErrorKind, host: string, repo: string, message: RegExp): Promise<RegistryError> {
  let caught: unknown;
  await p.then(() => assert.fail(`expected a ${kind} RegistryError`), (e: unknown) => { caught = e; });
  assert.ok(caught instanceof RegistryError, String(caught));
  assert.equal(caught.kind, kind, caught.message);
  assert.match(caught.message, new RegExp(`registry ${host.replace(/[.[\]]/g, '\\$&')}, repository ${repo}: `));
  assert.match(caught.message, message);
  for (const shown of [caught.message, String(caught), inspect(caught, { depth: 10 }), JSON.stringify(caught)]) {
    assert.ok(!shown.includes(PASSWORD) && !shown.includes(WRONG), shown);
    assert.ok(!/eyJ[A-Za-z0-9_-]{10,}/.test(shown), `no token in ${shown}`);
  }
  return caught;
}

describe('registry client, htpasswd (Basic) registry', () => {
  let reg: TestRegistry;
  let pushed: string;
  before(async () => {
    reg = await startRegistry({ auth: 'htpasswd', users: { alice: PASSWORD } });
    pushed = (await pushTestManifest(reg, 'wharf/app', 'v1', alice)).digest;
  });
  after(() => reg?.stop());

  it("finds a pushed manifest and reports the registry's digest of it", async () => {
    const c = client(reg);
    assert.deepEqual(await c.manifestExists(`${reg.host}/wharf/app:v1`), { exists: true, digest: pushed });
    assert.equal(await c.resolveDigest(`${reg.host}/wharf/app:v1`), pushed);
    assert.equal(await c.resolveDigest(`${reg.host}/wharf/app@${pushed}`), pushed);
  });

  it('reports a missing tag, digest or repository as absent, and resolveDigest as not_found', async () => {
    const c = client(reg);
    assert.deepEqual(await c.manifestExists(`${reg.host}/wharf/app:nope`), { exists: false });
    assert.deepEqual(await c.manifestExists(`${reg.host}/wharf/app@sha256:${'0'.repeat(64)}`), { exists: false });
    assert.deepEqual(await c.manifestExists(`${reg.host}/wharf/never`), { exists: false });
    const e = await rejectsWith(c.resolveDigest(`${reg.host}/wharf/app:nope`), 'not_found', reg.host, 'wharf/app', /no manifest for tag nope: manifest unknown: manifest unknown$/);
    assert.equal(e.status, 404);
    await rejectsWith(c.resolveDigest(`${reg.host}/wharf/never:v1`), 'not_found', reg.host, 'wharf/never', /: (name unknown|manifest unknown)/);
  });

  it('finds an OCI index (the Accept header asks for indexes too)', async () => {
    const { digest } = await pushTestManifest(reg, 'wharf/multi', 'v1', alice, { index: true });
    assert.deepEqual(await client(reg).manifestExists(`${reg.host}/wharf/multi:v1`), { exists: true, digest });
  });

  it('without credentials: unauthorized, quoting the registry', async () => {
    const anon = new RegistryClient();
    await rejectsWith(anon.manifestExists(`${reg.host}/wharf/app:v1`), 'unauthorized', reg.host, 'wharf/app',
      /no credentials are configured for it: unauthorized: authentication required$/);
  });

  it('a wrong password: unauthorized, naming host, repository and user but never the password', async () => {
    const e = await rejectsWith(client(reg, WRONG).resolveDigest(`${reg.host}/wharf/app:v1`), 'unauthorized', reg.host, 'wharf/app',
      /refused the credentials of user "alice": unauthorized: authentication required$/);
    assert.equal(e.status, 401);
  });

  it('push and pull hosts differ: pushed under localhost:P, found under 127.0.0.1:P', async () => {
    const settings = parseRegistrySettings({ push: `${reg.alias}/wharf`, pull: `${reg.host}/wharf` });
    const refs = imageRefs(settings, 'split', 't1');
    assert.equal(refs.push, `${reg.alias}/wharf/split:t1`);
    assert.equal(refs.pull, `${reg.host}/wharf/split:t1`);
    const { digest } = await pushTestManifest(reg, 'wharf/split', 't1', alice, { host: reg.alias });
    // Credentials for each name, as a kubelet pull secret would carry them.
    const creds = DockerConfigCredentialStore.fromJson(dockerConfigJson({ [reg.alias]: alice, [`http://${reg.host}`]: alice }));
    const c = new RegistryClient({ credentials: creds, timeoutMs: 5000 });
    assert.deepEqual(await c.manifestExists(refs.pull), { exists: true, digest });
    assert.deepEqual(await c.manifestExists(refs.push), { exists: true, digest });
  });
});

describe('registry client, token (Bearer) registry', () => {
  let reg: TestRegistry;
  let pushed: string;
  before(async () => {
    reg = await startRegistry({ auth: 'token', users: { alice: PASSWORD }, tokenExpiresIn: 120, deny: ['wharf/secret'] });
    pushed = (await pushTestManifest(reg, 'wharf/app', 'v1', alice)).digest;
  });
  after(() => reg?.stop());

  it('gets a pull token for the repository and finds the manifest', async () => {
    const before = reg.tokenRequests.length;
    assert.equal(await client(reg).resolveDigest(`${reg.host}/wharf/app:v1`), pushed);
    assert.deepEqual(reg.tokenRequests.slice(before), [{ account: 'alice', scopes: ['repository:wharf/app:pull'], granted: true }]);
  });

  it('caches the token per (registry, scope) until it expires, and shares one request among concurrent callers', async () => {
    let now = Date.now();
    const c = client(reg, PASSWORD, { now: () => now });
    const before = reg.tokenRequests.length;
    const got = await Promise.all([1, 2, 3, 4].map(() => c.manifestExists(`${reg.host}/wharf/app:v1`)));
    assert.ok(got.every((g) => g.exists && g.digest === pushed));
    assert.equal(reg.tokenRequests.length - before, 1, 'one token for four concurrent requests');
    await c.manifestExists(`${reg.host}/wharf/app:v1`);
    await c.manifestExists(`${reg.host}/wharf/app:other`);
    assert.equal(reg.tokenRequests.length - before, 1, 'the cached token is reused for the same scope');
    await c.manifestExists(`${reg.host}/wharf/second:v1`);
    assert.equal(reg.tokenRequests.length - before, 2, 'another repository is another scope');
    now += 121_000;
    assert.deepEqual(await c.manifestExists(`${reg.host}/wharf/app:v1`), { exists: true, digest: pushed });
    assert.equal(reg.tokenRequests.length - before, 3, 'an expired token is replaced');
  });

  it('a client holding cached tokens shows neither them nor the password', async () => {
    // A store of unknown make, with its secret in a plain field: the client must not print it.
    const naive = { secret: PASSWORD, get: (): typeof alice => alice };
    const c = new RegistryClient({ credentials: naive });
    assert.equal((await c.manifestExists(`${reg.host}/wharf/app:v1`)).exists, true);
    for (const shown of [JSON.stringify(c), String(c), inspect(c, { depth: 10, showHidden: true })]) {
      assert.ok(!shown.includes(PASSWORD) && !/eyJ[A-Za-z0-9_-]{10,}/.test(shown), shown);
    }
    assert.match(inspect(c), /tokens: 1/);
  });

  it('a wrong password: the token service refuses; unauthorized, with no password or token in sight', async () => {
    await rejectsWith(client(reg, WRONG).manifestExists(`${reg.host}/wharf/app:v1`), 'unauthorized', reg.host, 'wharf/app',
      /token service http:\/\/127\.0\.0\.1:\d+\/token refused the credentials of user "alice": incorrect username or password$/);
  });

  it('a repository the token service refuses: denied, quoting it', async () => {
    const e = await rejectsWith(client(reg).manifestExists(`${reg.host}/wharf/secret:v1`), 'denied', reg.host, 'wharf/secret',
      /token service http:\/\/127\.0\.0\.1:\d+\/token refused the credentials of user "alice": requested access to the resource is denied$/);
    assert.equal(e.status, 403);
  });

  it('anonymous: a token that grants nothing, then the registry says unauthorized', async () => {
    const before = reg.tokenRequests.length;
    await rejectsWith(new RegistryClient().resolveDigest(`${reg.host}/wharf/app:v1`), 'unauthorized', reg.host, 'wharf/app',
      /no credentials are configured for it: unauthorized: authentication required$/);
    assert.deepEqual(reg.tokenRequests.slice(before), [{ account: undefined, scopes: ['repository:wharf/app:pull'], granted: false }]);
  });
});

describe('registry client, network failures', () => {
  it('a port nobody listens on: unreachable, naming the address', async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    await new Promise((r) => probe.close(r));
    await rejectsWith(new RegistryClient().manifestExists(`127.0.0.1:${port}/wharf/app:v1`), 'unreachable', `127.0.0.1:${port}`, 'wharf/app',
      new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}/v2/wharf/app/manifests/v1 \\(ECONNREFUSED\\)$`));
  });

  describe('a server that accepts and never answers', () => {
    const sockets = new Set<Socket>();
    const silent = createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    let host = '';
    before(async () => {
      silent.listen(0, '127.0.0.1');
      await once(silent, 'listening');
      host = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    });
    after(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    });

    it('times out per request: unreachable, saying how long it waited', async () => {
      const t0 = Date.now();
      await rejectsWith(new RegistryClient({ timeoutMs: 200 }).manifestExists(`${host}/wharf/app:v1`), 'unreachable', host, 'wharf/app', /did not answer within 200 ms$/);
      const took = Date.now() - t0;
      assert.ok(took >= 190 && took < 2000, `took ${took} ms`);
    });

    it("honours the caller's AbortSignal with the caller's reason", async () => {
      const ac = new AbortController();
      const reason = new Error('the build was canceled');
      const p = new RegistryClient({ timeoutMs: 30_000 }).manifestExists(`${host}/wharf/app:v1`, { signal: ac.signal });
      await once(silent, 'connection');
      ac.abort(reason);
      await assert.rejects(p, (e: unknown) => e === reason);
      await assert.rejects(new RegistryClient().manifestExists(`${host}/x:y`, { signal: ac.signal }), (e: unknown) => e === reason);
    });
  });
});
