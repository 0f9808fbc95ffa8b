// Answers the real registry does not give on demand, from a scripted loopback server: a HEAD
// without Docker-Content-Digest, a malformed digest, server errors, and a token realm that
// would take credentials over plain http to another host.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MapCredentialStore, RegistryClient, RegistryError, type RegistryErrorKind } from '../../src/builders/registry/index.js';

const MANIFEST = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [] });

const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  '/v2/nodigest/manifests/v1': (req, res) => {
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': MANIFEST.length });
    res.end(req.method === 'HEAD' ? undefined : MANIFEST);
  },
  '/v2/baddigest/manifests/v1': (_req, res) => res.writeHead(200, { 'docker-content-digest': 'md5:xyz' }).end(),
  '/v2/broken/manifests/v1': (req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' }).end(req.method === 'HEAD' ? undefined : '{"errors":[{"code":"UNKNOWN","message":"unknown error","detail":"disk full"}]}');
  },
  '/v2/unavailable/manifests/v1': (_req, res) => res.writeHead(503, { 'content-type': 'text/plain' }).end('maintenance until noon\n'),
  '/v2/farrealm/manifests/v1': (_req, res) => res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://registry-auth.invalid/token",service="x"' }).end(),
  '/v2/norealm/manifests/v1': (_req, res) => res.writeHead(401, { 'www-authenticate': 'Bearer service="x"' }).end(),
};

describe('registry client, scripted answers', () => {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (route) route(req, res);
    else res.writeHead(404).end();
  });
  let host = '';
  before(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const fails = async (p: Promise<unknown>, kind: RegistryErrorKind, message: RegExp): Promise<void> => {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof RegistryError, String(e));
      assert.equal(e.kind, kind, e.message);
      assert.match(e.message, message);
      return true;
    });
  };

  it('computes the digest from the body when HEAD gives no Docker-Content-Digest', async () => {
    const digest = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;
    assert.deepEqual(await new RegistryClient().manifestExists(`${host}/nodigest:v1`), { exists: true, digest });
  });

  it('rejects a malformed digest as a protocol error', async () => {
    await fails(new RegistryClient().manifestExists(`${host}/baddigest:v1`), 'protocol', /Docker-Content-Digest "md5:xyz" is not a digest$/);
  });

  it("quotes the registry's error for a server error, asking with GET since HEAD has no body", async () => {
    seen.length = 0;
    await fails(new RegistryClient().manifestExists(`${host}/broken:v1`), 'protocol', new RegExp(`^registry ${host}, repository broken: unexpected answer from the registry: unknown: unknown error$`));
    assert.deepEqual(seen, ['HEAD /v2/broken/manifests/v1', 'GET /v2/broken/manifests/v1']);
  });

  it('reports 503 as unreachable, quoting a plain-text body', async () => {
    await fails(new RegistryClient().resolveDigest(`${host}/unavailable:v1`), 'unreachable', /the registry is unavailable: maintenance until noon$/);
  });

  it('will not send credentials to a plain-http token realm on another host', async () => {
    const c = new RegistryClient({ credentials: new MapCredentialStore({ [host]: { username: 'u', password: 'p' } }) });
    await fails(c.manifestExists(`${host}/farrealm:v1`), 'protocol', /refusing to send credentials to token service http:\/\/registry-auth\.invalid\/token over plain http/);
    await fails(c.manifestExists(`${host}/norealm:v1`), 'protocol', /the Bearer challenge's realm "" is not an http\(s\) URL$/);
  });
});
