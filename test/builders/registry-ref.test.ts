// Image references, registry settings, WWW-Authenticate parsing and the http/https choice: pure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registryBaseUrl } from '../../src/builders/registry/hosts.js';
import {
  formatImageRef,
  ImageRefError,
  imageRefs,
  isInsecure,
  parseImageRef,
  parseRegistrySettings,
  registryApiHost,
  RegistrySettingsError,
  type ImageRef,
} from '../../src/builders/registry/index.js';
import { parseWwwAuthenticate } from '../../src/builders/registry/www-authenticate.js';

const D = `sha256:${'ab'.repeat(32)}`;

describe('parseImageRef', () => {
  const valid: [string, ImageRef][] = [
    ['busybox', { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' }],
    ['busybox:1.36', { registry: 'docker.io', repository: 'library/busybox', tag: '1.36' }],
    ['library/busybox', { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' }],
    ['wharf/app:v1', { registry: 'docker.io', repository: 'wharf/app', tag: 'v1' }],
    ['docker.io/busybox', { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' }],
    ['index.docker.io/foo/bar', { registry: 'docker.io', repository: 'foo/bar', tag: 'latest' }],
    ['registry-1.docker.io/foo', { registry: 'docker.io', repository: 'library/foo', tag: 'latest' }],
    ['localhost/app', { registry: 'localhost', repository: 'app', tag: 'latest' }],
    ['localhost:5000/a/b:t', { registry: 'localhost:5000', repository: 'a/b', tag: 't' }],
    ['host:5000/a/b:t', { registry: 'host:5000', repository: 'a/b', tag: 't' }],
    ['127.0.0.1:5000/x', { registry: '127.0.0.1:5000', repository: 'x', tag: 'latest' }],
    ['[::1]:5000/x:t', { registry: '[::1]:5000', repository: 'x', tag: 't' }],
    ['ghcr.io/o/r/deep/path:1.0-rc_1', { registry: 'ghcr.io', repository: 'o/r/deep/path', tag: '1.0-rc_1' }],
    ['Foo/bar', { registry: 'Foo', repository: 'bar', tag: 'latest' }],
    ['my_app', { registry: 'docker.io', repository: 'library/my_app', tag: 'latest' }],
    ['a__b/c-d--e.f', { registry: 'docker.io', repository: 'a__b/c-d--e.f', tag: 'latest' }],
    [`busybox@${D}`, { registry: 'docker.io', repository: 'library/busybox', digest: D }],
    [`host:5000/a:t@${D}`, { registry: 'host:5000', repository: 'a', tag: 't', digest: D }],
  ];
  for (const [text, want] of valid) {
    it(`parses ${text}`, () => {
      assert.deepEqual(parseImageRef(text), want);
    });
  }

  const invalid: [string, ImageRefError['part'], RegExp][] = [
    ['', 'reference', /is empty/],
    [' busybox', 'reference', /white space/],
    ['Busybox', 'repository', /must be lower case/],
    ['host:5000/App', 'repository', /"App" must be lower case/],
    ['a:', 'tag', /"" must be/],
    ['a:-x', 'tag', /"-x"/],
    [`a:${'x'.repeat(129)}`, 'tag', /1-128/],
    ['a@sha256:abc', 'digest', /"sha256:abc" is not algorithm:hex/],
    [`a@sha256:${'AB'.repeat(32)}`, 'digest', /lower-case hex/],
    ['host:5000/', 'repository', /component ""/],
    ['a//b', 'repository', /component ""/],
    ['a/-b', 'repository', /component "-b"/],
    ['ho_st.com/x', 'registry', /"ho_st.com" is not a host/],
    ['host:port/x', 'registry', /"host:port"/],
    ['ab'.repeat(32), 'repository', /64-digit hex/],
    [`h.io/${'a'.repeat(260)}`, 'repository', /longer than 255/],
  ];
  for (const [text, part, detail] of invalid) {
    it(`rejects ${JSON.stringify(text.slice(0, 40))} naming the ${part}`, () => {
      assert.throws(() => parseImageRef(text), (e: unknown) => {
        assert.ok(e instanceof ImageRefError);
        assert.equal(e.part, part);
        assert.match(e.message, detail);
        assert.ok(e.message.includes(`${part} `), e.message);
        return true;
      });
    });
  }

  it('formats back to the fully qualified form, which parses to the same thing', () => {
    for (const [text, want] of valid) {
      const formatted = formatImageRef(parseImageRef(text));
      assert.deepEqual(parseImageRef(formatted), want, formatted);
    }
    assert.equal(formatImageRef(parseImageRef('busybox')), 'docker.io/library/busybox:latest');
    assert.equal(formatImageRef(parseImageRef(`h:1/a:t@${D}`)), `h:1/a:t@${D}`);
  });

  it("knows Docker Hub's API host", () => {
    assert.equal(registryApiHost('docker.io'), 'registry-1.docker.io');
    assert.equal(registryApiHost('index.docker.io'), 'registry-1.docker.io');
    assert.equal(registryApiHost('localhost:5000'), 'localhost:5000');
  });
});

describe('http or https', () => {
  it('uses http for loopback and listed insecure hosts only', () => {
    for (const h of ['127.0.0.1:5000', '127.9.9.9', 'localhost:5000', 'localhost', '[::1]:5000', 'reg.localhost:80']) {
      assert.equal(isInsecure(h), true, h);
    }
    for (const h of ['128.0.0.1:5000', 'example.com', 'localhost.example.com:5000', 'registry-1.docker.io', '192.0.2.1:5000']) {
      assert.equal(isInsecure(h), false, h);
    }
    assert.equal(isInsecure('reg.lan:5000', ['reg.lan']), true);
    assert.equal(isInsecure('reg.lan:5000', ['reg.lan:5000']), true);
    assert.equal(isInsecure('reg.lan:5001', ['reg.lan:5000']), false);
    assert.equal(registryBaseUrl('reg.lan:5000'), 'https://reg.lan:5000');
    assert.equal(registryBaseUrl('127.0.0.1:5000'), 'http://127.0.0.1:5000');
  });
});

describe('registry settings', () => {
  it('accepts different push and pull prefixes and builds both references', () => {
    const s = parseRegistrySettings({ push: 'localhost:5000/wharf/', pull: '127.0.0.1:5000/wharf', insecure: ['reg.lan:5000'] });
    assert.deepEqual(s, { push: 'localhost:5000/wharf', pull: '127.0.0.1:5000/wharf', insecure: ['reg.lan:5000'] });
    assert.deepEqual(imageRefs(s, 'app', 'abc123'), { push: 'localhost:5000/wharf/app:abc123', pull: '127.0.0.1:5000/wharf/app:abc123' });
  });

  it('pulls from the push prefix by default and normalizes Docker Hub handles', () => {
    assert.deepEqual(imageRefs(parseRegistrySettings({ push: 'reg.example.com:443/team' }), 'app', 't'), {
      push: 'reg.example.com:443/team/app:t',
      pull: 'reg.example.com:443/team/app:t',
    });
    assert.deepEqual(imageRefs(parseRegistrySettings({ push: 'dockerhandle' }), 'app', 't').pull, 'docker.io/dockerhandle/app:t');
  });

  const bad: [unknown, RegExp][] = [
    [{}, /registry\.push: /],
    [{ push: '' }, /registry\.push: must not be empty/],
    [{ push: 'localhost:5000/Wharf' }, /registry\.push: .*repository "Wharf\/probe" must be lower case/],
    [{ push: 'localhost:5000/wharf', pull: `127.0.0.1:5000/wharf@${D}` }, /registry\.pull: .*without a digest/],
    [{ push: 'localhost:5000/wharf', insecure: ['ok:1', 'no/path'] }, /registry\.insecure\[1\]: must be a host or host:port/],
    [{ push: 'localhost:5000/wharf', pusj: 'x' }, /registry: .*pusj/],
    ['localhost:5000', /registry: /],
  ];
  for (const [input, want] of bad) {
    it(`rejects ${JSON.stringify(input)} naming the field`, () => {
      assert.throws(() => parseRegistrySettings(input), (e: unknown) => e instanceof RegistrySettingsError && want.test(e.message));
    });
  }
});

describe('WWW-Authenticate', () => {
  it('parses Bearer and Basic challenges, quoted and not, several in one header', () => {
    assert.deepEqual(parseWwwAuthenticate('Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"'), [
      { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'reg', scope: 'repository:a/b:pull,push' } },
    ]);
    assert.deepEqual(parseWwwAuthenticate('Basic realm="a \\"q\\" b", Bearer realm=x , error=insufficient_scope'), [
      { scheme: 'basic', params: { realm: 'a "q" b' } },
      { scheme: 'bearer', params: { realm: 'x', error: 'insufficient_scope' } },
    ]);
    assert.deepEqual(parseWwwAuthenticate(''), []);
    assert.deepEqual(parseWwwAuthenticate('=,,"'), []);
  });
});
