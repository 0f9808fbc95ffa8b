// DOCKER_HOST → where the engine listens. Only unix sockets and tcp (plain, or TLS when
// DOCKER_TLS_VERIFY is set, with the client certificates from DOCKER_CERT_PATH) are spoken.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

export interface DockerTls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export type DockerHost =
  | { kind: 'unix'; socketPath: string; /** The DOCKER_HOST form, for messages. */ url: string }
  | { kind: 'tcp'; hostname: string; port: number; url: string; tls?: DockerTls };

export class DockerHostError extends Error {
  override readonly name = 'DockerHostError';
}

/** Environment read by parseDockerHost; process.env by default (a parameter so tests need not mutate it). */
export interface DockerEnv {
  DOCKER_TLS_VERIFY?: string | undefined;
  DOCKER_CERT_PATH?: string | undefined;
}

export function parseDockerHost(value: string | undefined, env: DockerEnv = process.env): DockerHost {
  const text = value?.trim() ?? '';
  if (text === '') return { kind: 'unix', socketPath: DEFAULT_SOCKET, url: `unix://${DEFAULT_SOCKET}` };
  if (text.startsWith('/')) return { kind: 'unix', socketPath: text, url: `unix://${text}` };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'unix') {
    const socketPath = text.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new DockerHostError(`DOCKER_HOST ${JSON.stringify(text)}: expected an absolute socket path after unix://`);
    return { kind: 'unix', socketPath, url: text };
  }
  if (scheme === 'tcp' || scheme === 'http' || scheme === 'https') {
    let u: URL;
    try {
      u = new URL(text.replace(/^[a-z]+:/i, 'http:'));
    } catch {
      throw new DockerHostError(`DOCKER_HOST ${JSON.stringify(text)}: expected tcp://host:port`);
    }
    if (u.pathname !== '/' && u.pathname !== '') {
      throw new DockerHostError(`DOCKER_HOST ${JSON.stringify(text)}: a path prefix is not supported, expected tcp://host:port`);
    }
    const wantTls = scheme === 'https' || (env.DOCKER_TLS_VERIFY ?? '') !== '';
    // Docker's own defaults: 2376 with TLS, 2375 without.
    const port = u.port === '' ? (wantTls ? 2376 : 2375) : Number(u.port);
    const hostname = u.hostname.replace(/^\[(.*)\]$/, '$1');
    const host: DockerHost = { kind: 'tcp', hostname, port, url: text };
    if (wantTls) host.tls = readTls(env.DOCKER_CERT_PATH || join(homedir(), '.docker'));
    return host;
  }
  throw new DockerHostError(
    `DOCKER_HOST ${JSON.stringify(text)}: ${scheme ? `the ${scheme}:// scheme is not supported` : 'no scheme'}; ` +
      'expected unix:///path/to/docker.sock or tcp://host:port',
  );
}

function readTls(dir: string): DockerTls {
  const read = (name: string): Buffer => {
    try {
      return readFileSync(join(dir, name));
    } catch (e) {
      throw new DockerHostError(`DOCKER_TLS_VERIFY is set but ${join(dir, name)} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}); set DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and key.pem`);
    }
  };
  return { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
}
