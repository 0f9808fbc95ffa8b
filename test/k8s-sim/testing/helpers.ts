// Shared set-up for the simulator's conformance tests (test/k8s-sim-tests/): a simulator with the fake kubelet, the
// official client configured ONLY from the simulator's kubeconfig options, raw HTTPS requests, and
// an event log that can be awaited.
import { request } from 'node:https';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { startSimulator, type Simulator, type SimulatorOptions } from '../index.js';
import { FakeKubelet, fakeKubelet, type FakeKubeletOptions } from '../fake-kubelet.js';

export { reference, referenceText } from './reference.js';

export const NS = 'tasks';

export interface Env {
  sim: Simulator;
  kc: KubeConfig;
  core: CoreV1Api;
  fake: FakeKubelet;
}

export async function setup(opts: SimulatorOptions & { fake?: FakeKubeletOptions } = {}): Promise<Env> {
  let fake: FakeKubelet | undefined;
  const sim = await startSimulator({ namespaces: [NS, 'other'], kubelet: fakeKubelet((k) => { fake = k; }, opts.fake), ...opts });
  const kc = new KubeConfig();
  kc.loadFromOptions(sim.kubeConfigOptions());
  if (!fake) throw new Error('the fake kubelet was not made');
  return { sim, kc, core: kc.makeApiClient(CoreV1Api), fake };
}

export function pod(name: string, extra: { labels?: Record<string, string>; image?: string; restartPolicy?: string } = {}): V1Pod {
  return {
    metadata: { name, labels: extra.labels ?? { app: 'task' } },
    spec: { containers: [{ name: 'main', image: extra.image ?? 'busybox' }], restartPolicy: extra.restartPolicy ?? 'Never' },
  };
}

export interface RawResponse { status: number; headers: IncomingHttpHeaders; text: string; json(): unknown }

/** One HTTP request to the simulator, trusting its CA; `token` adds a bearer header. */
export function raw(sim: Simulator, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  const url = new URL(path, sim.url);
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const make = url.protocol === 'https:' ? request : httpRequest;
  return new Promise((resolve, reject) => {
    const req = make(url, { method, headers: { ...(payload ? { 'Content-Type': 'application/json' } : {}), ...headers }, ...(sim.ca ? { ca: sim.ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as unknown });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Events in arrival order, with a way to wait until some condition holds (no polling). */
export class EventLog<T> {
  readonly items: T[] = [];
  private waiters: { pred: (items: T[]) => boolean; resolve: () => void }[] = [];

  push(item: T): void {
    this.items.push(item);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(this.items)) return true;
      w.resolve();
      return false;
    });
  }

  until(pred: (items: T[]) => boolean, what: string, timeoutMs = 5000): Promise<void> {
    if (pred(this.items)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; saw ${JSON.stringify(this.items)}`)), timeoutMs);
      this.waiters.push({ pred, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }
}

/** The body with names, uids and RVs of a real capture replaced, so a simulator answer can be compared. */
export function normalise(v: unknown, names: Record<string, string>): unknown {
  let text = JSON.stringify(v);
  for (const [from, to] of Object.entries(names)) text = text.split(from).join(to);
  return JSON.parse(text);
}

export interface Stream {
  /** Parsed JSON lines, as they arrive. */
  events: EventLog<{ type: string; object: Record<string, unknown> & { metadata?: Record<string, unknown> } }>;
  /** Every line, unparsed (for non-JSON streams such as logs). */
  lines: EventLog<string>;
  status: Promise<number>;
  /** How the body ended: cleanly ('end') or with the connection torn down ('aborted'). */
  ended: Promise<'end' | 'aborted'>;
  close(): void;
}

/** Opens a streaming GET (a watch) and parses each line as it comes. */
export function openStream(sim: Simulator, path: string, headers: Record<string, string> = {}): Stream {
  const url = new URL(path, sim.url);
  const events: Stream['events'] = new EventLog();
  const lines = new EventLog<string>();
  let setStatus!: (n: number) => void;
  let setEnded!: (how: 'end' | 'aborted') => void;
  const status = new Promise<number>((r) => { setStatus = r; });
  const ended = new Promise<'end' | 'aborted'>((r) => { setEnded = r; });
  const make = url.protocol === 'https:' ? request : httpRequest;
  const req = make(url, { headers, ...(sim.ca ? { ca: sim.ca } : {}) }, (res) => {
    setStatus(res.statusCode ?? 0);
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => {
      buf += c;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        if (line.startsWith('{')) events.push(JSON.parse(line) as { type: string; object: Record<string, unknown> });
      }
    });
    res.on('end', () => setEnded('end'));
    res.on('aborted', () => setEnded('aborted'));
    res.on('error', () => setEnded('aborted'));
  });
  req.on('error', () => { setStatus(0); setEnded('aborted'); });
  req.end();
  return { events, lines, status, ended, close: () => req.destroy() };
}
