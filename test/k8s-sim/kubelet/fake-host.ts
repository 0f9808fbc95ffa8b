// An in-memory PodHost for testing the kubelet without the API server: it keeps pods and
// secrets, records every status written (in order), and awaits the ones a test expects.
import { randomUUID } from 'node:crypto';
import type { Pod, PodStatus, Secret } from '../types.js';
import type { BindingPodHost } from './kubelet.js';

interface Waiter {
  key: string;
  test: (s: PodStatus) => boolean;
  resolve: (s: PodStatus) => void;
}

export class FakePodHost implements BindingPodHost {
  private readonly pods = new Map<string, Pod>();
  private readonly secrets = new Map<string, Secret>();
  /** Every status written, per pod, in order. */
  readonly history = new Map<string, PodStatus[]>();
  readonly bound = new Map<string, string>();
  readonly removed: string[] = [];
  private waiters: Waiter[] = [];
  private removals: { key: string; resolve: () => void }[] = [];

  /** Stores a pod as the API server would (namespace, uid, creationTimestamp); returns it. */
  addPod(pod: Pod): Pod {
    const metadata = { namespace: 'default', uid: randomUUID(), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), ...pod.metadata };
    const stored: Pod = { ...pod, metadata };
    this.pods.set(`${metadata.namespace}/${metadata.name ?? ''}`, stored);
    return stored;
  }

  addSecret(namespace: string, name: string, data: Record<string, string | Buffer>, type = 'Opaque'): void {
    const enc = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    this.secrets.set(`${namespace}/${name}`, { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type, data: enc });
  }

  /** Drops a pod from the store without telling the kubelet (a delete behind its back). */
  dropPod(namespace: string, name: string): void {
    this.pods.delete(`${namespace}/${name}`);
  }

  getPod(namespace: string, name: string): Pod | undefined {
    return this.pods.get(`${namespace}/${name}`);
  }

  setStatus(namespace: string, name: string, status: PodStatus): void {
    const key = `${namespace}/${name}`;
    const pod = this.pods.get(key);
    if (!pod) return;
    const copy = JSON.parse(JSON.stringify(status)) as PodStatus;
    this.pods.set(key, { ...pod, status: copy });
    const h = this.history.get(key) ?? [];
    h.push(copy);
    this.history.set(key, h);
    this.waiters = this.waiters.filter((w) => !(w.key === key && w.test(copy) && (w.resolve(copy), true)));
  }

  remove(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    this.pods.delete(key);
    this.removed.push(key);
    this.removals = this.removals.filter((r) => !(r.key === key && (r.resolve(), true)));
  }

  getSecret(namespace: string, name: string): Secret | undefined {
    return this.secrets.get(`${namespace}/${name}`);
  }

  bind(namespace: string, name: string, node: string): void {
    const key = `${namespace}/${name}`;
    this.bound.set(key, node);
    const pod = this.pods.get(key);
    if (pod) this.pods.set(key, { ...pod, spec: { containers: [], ...pod.spec, nodeName: node } });
  }

  statuses(namespace: string, name: string): PodStatus[] {
    return this.history.get(`${namespace}/${name}`) ?? [];
  }

  /** The first status (already written or to come) that passes `test`; rejects after `timeoutMs`. */
  waitFor(namespace: string, name: string, test: (s: PodStatus) => boolean, timeoutMs = 30_000): Promise<PodStatus> {
    const key = `${namespace}/${name}`;
    const seen = this.statuses(namespace, name).find(test);
    if (seen) return Promise.resolve(seen);
    const what = (): string => `a status of ${key} passing ${test.toString()}; the last one: ${JSON.stringify(this.statuses(namespace, name).at(-1))}`;
    return this.bounded(new Promise<PodStatus>((resolve) => this.waiters.push({ key, test, resolve })), timeoutMs, what);
  }

  /** Resolves once the kubelet removed the pod (its final delete). */
  waitRemoved(namespace: string, name: string, timeoutMs = 60_000): Promise<void> {
    const key = `${namespace}/${name}`;
    if (this.removed.includes(key)) return Promise.resolve();
    return this.bounded(new Promise<void>((resolve) => this.removals.push({ key, resolve })), timeoutMs, () => `the removal of ${key}`);
  }

  private bounded<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => { t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what()}`)), ms); });
    return Promise.race([p, timeout]).finally(() => clearTimeout(t));
  }
}
