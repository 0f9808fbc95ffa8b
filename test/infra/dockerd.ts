// Starts a real dockerd for the tests, with loopback-only containers (no bridge, no iptables),
// its own socket, data and exec roots in a temporary directory, and stops it without a trace.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { stopChild } from '../helpers/stop-child.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Dockerd {
  socketPath: string;
  /** DOCKER_HOST form. */
  host: string;
  stop(): Promise<void>;
}

/** One request to the engine over its socket; the body parsed as JSON when there is one. */
export function engineCall(socketPath: string, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => { text += d; }).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function startDockerd(): Promise<Dockerd> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-dockerd-'));
  const socketPath = join(dir, 'docker.sock');
  const child = spawn('dockerd', [
    '--bridge=none', '--iptables=false', '--ip-forward=false', '--ip-masq=false',
    '-H', `unix://${socketPath}`, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'),
    '--pidfile', join(dir, 'docker.pid'), '--log-level', 'warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { log += d; });
  const stop = async (): Promise<void> => {
    await stopChild(child, 15_000);
    // dockerd leaves its default network namespace mounted; rm fails under a mount point.
    spawnSync('umount', [join(dir, 'exec', 'netns', 'default')], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(child, socketPath, () => log);
  } catch (e) {
    await stop();
    throw e;
  }
  return { socketPath, host: `unix://${socketPath}`, stop };
}

/** dockerd has no readiness signal but its socket answering _ping: try with a short backoff, bounded. */
async function waitReady(child: ChildProcess, socketPath: string, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`dockerd exited at start:\n${tail(log())}`);
    const r = await engineCall(socketPath, 'GET', '/_ping').catch(() => undefined);
    if (r?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`dockerd did not answer on ${socketPath} within 30 s:\n${tail(log())}`);
    await new Promise((res) => setTimeout(res, delay));
  }
}

function tail(s: string): string {
  return s.split('\n').slice(-15).join('\n');
}
