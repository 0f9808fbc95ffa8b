// A real API server only speaks HTTPS, and a kubeconfig carries its CA: the simulator makes a
// self-signed certificate for 127.0.0.1 with the system's openssl (once per process).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface ServingCert { key: string; cert: string }

let cached: Promise<ServingCert> | undefined;

export class CertificateError extends Error {
  constructor(cause: unknown) {
    super(`could not make the simulator's serving certificate with openssl (is /usr/bin/openssl installed?): ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'CertificateError';
  }
}

async function make(): Promise<ServingCert> {
  const dir = await mkdtemp(join(tmpdir(), 'k8s-sim-tls-'));
  try {
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=k8s-sim',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-addext', 'basicConstraints=critical,CA:TRUE', '-days', '7',
    ]);
    return { key: await readFile(join(dir, 'key.pem'), 'utf8'), cert: await readFile(join(dir, 'cert.pem'), 'utf8') };
  } catch (e) {
    cached = undefined;
    throw new CertificateError(e);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function servingCert(): Promise<ServingCert> {
  cached ??= make();
  return cached;
}
