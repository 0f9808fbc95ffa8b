// Shared scaffolding for the local backend tests: a temp state dir per test, an event recorder,
// and request builders.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalBackend, type LocalBackend } from '../../src/backends/local/index.js';
import type { RunLogChunk, StartRequest } from '../../src/backends/types.js';
import type { TaskPlan } from '../../src/spec/plan.js';
import { Recorder } from '../helpers/recorder.js';

export { Recorder };

export interface Ctx {
  dir: string;
  backend: LocalBackend;
  rec: Recorder;
  /** Another backend instance on the same state dir. */
  other(instanceId: string): { backend: LocalBackend; rec: Recorder };
  workDir(runId: string): string;
  cleanup(): Promise<void>;
}

export function setup(): Ctx {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-local-'));
  const backends: LocalBackend[] = [];
  const make = (instanceId: string): { backend: LocalBackend; rec: Recorder } => {
    const backend = createLocalBackend({ stateDir: dir, instanceId });
    backends.push(backend);
    return { backend, rec: new Recorder(backend) };
  };
  const main = make('test-main');
  return {
    dir,
    ...main,
    other: make,
    workDir: (runId) => join(dir, 'runs', runId, 'work'),
    async cleanup() {
      for (const b of backends) {
        for (const r of await b.listOwned({})) await b.remove(r.runId); // kills what is left
        await b.close();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function plan(command: string[], extra: Partial<TaskPlan> = {}): TaskPlan {
  return { name: 't', command, env: {}, needs: [], retry: { limit: 0, initialMs: 1000, factor: 2, maxMs: 1000 }, ...extra };
}

export function req(runId: string, command: string[], opts: { env?: Record<string, string>; labels?: Record<string, string>; plan?: Partial<TaskPlan> } = {}): StartRequest {
  return { runId, labels: opts.labels ?? {}, plan: plan(command, opts.plan), env: opts.env ?? {} };
}

/** All output, per stream, read with follow until the run's output ends. */
export async function output(backend: LocalBackend, runId: string): Promise<{ stdout: string; stderr: string; chunks: RunLogChunk[] }> {
  const chunks: RunLogChunk[] = [];
  for await (const c of backend.logs(runId, { follow: true })) chunks.push(c);
  const text = (s: string): string => Buffer.concat(chunks.filter((c) => c.stream === s).map((c) => c.data)).toString('utf8');
  return { stdout: text('stdout'), stderr: text('stderr'), chunks };
}

/** Whether pid names a live process (zombies count as gone: pid 1 here may never reap them). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Polls a condition (the thing awaited has no event of its own); fails after timeoutMs. */
export async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
