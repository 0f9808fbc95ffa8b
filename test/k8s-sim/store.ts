// Storage as etcd + the watch cache present it: one global resourceVersion counter, objects per
// resource, and a bounded history of changes per resource so a watch can resume from an RV — or
// be told it is too old (410 Expired) once the window has moved past it.
import { randomUUID } from 'node:crypto';
import { clone, key, rfc3339, type KubeObject } from './wire.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One stored change; `prev` is the object before it (for selector transitions, as the cacher does). */
export interface Change<T> {
  type: ChangeType;
  rv: number;
  object: T;
  prev?: T;
}

/** The cluster-wide revision (etcd's). */
export class Revision {
  current = 0;
  next(): number { return ++this.current; }
}

export class ResourceStore<T extends KubeObject> {
  private readonly objects = new Map<string, T>();
  private history: Change<T>[] = [];
  /** Every change with rv > floor is in `history`. */
  private floor: number;
  private readonly subscribers = new Set<(c: Change<T>) => void>();

  constructor(readonly resource: string, readonly kind: string, private readonly rev: Revision, private readonly limit: number) {
    this.floor = rev.current;
  }

  get currentRv(): number { return this.rev.current; }

  get(namespace: string | undefined, name: string): T | undefined {
    const o = this.objects.get(key(namespace, name));
    return o && clone(o);
  }

  /** Sorted by namespace/name, as etcd's key order gives them. */
  list(namespace?: string): T[] {
    return [...this.objects.entries()]
      .filter(([, o]) => namespace === undefined || o.metadata?.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => clone(o));
  }

  /** Stores a new object: uid, creationTimestamp and resourceVersion are the server's. */
  create(obj: T): T {
    const meta = obj.metadata ?? {};
    const k = key(meta.namespace, meta.name ?? '');
    if (this.objects.has(k)) throw new Error(`${this.resource} ${k} already exists`);
    const rv = this.rev.next();
    const stored = clone(obj);
    stored.metadata = { ...meta, uid: meta.uid ?? randomUUID(), resourceVersion: String(rv), creationTimestamp: meta.creationTimestamp ?? rfc3339() };
    this.objects.set(k, stored);
    this.record({ type: 'ADDED', rv, object: clone(stored) });
    return clone(stored);
  }

  /** Replaces an object through `mutate` (a new resourceVersion, MODIFIED); undefined when it is gone. */
  update(namespace: string | undefined, name: string, mutate: (o: T) => T): T | undefined {
    const k = key(namespace, name);
    const cur = this.objects.get(k);
    if (!cur) return undefined;
    const next = mutate(clone(cur));
    const rv = this.rev.next();
    next.metadata = { ...next.metadata, resourceVersion: String(rv) };
    this.objects.set(k, next);
    this.record({ type: 'MODIFIED', rv, object: clone(next), prev: clone(cur) });
    return clone(next);
  }

  /** Removes an object; the DELETED event carries it as it was, with the delete's resourceVersion. */
  remove(namespace: string | undefined, name: string): T | undefined {
    const k = key(namespace, name);
    const cur = this.objects.get(k);
    if (!cur) return undefined;
    this.objects.delete(k);
    const rv = this.rev.next();
    const gone = clone(cur);
    gone.metadata = { ...gone.metadata, resourceVersion: String(rv) };
    this.record({ type: 'DELETED', rv, object: clone(gone), prev: clone(cur) });
    return gone;
  }

  /** Changes after `rv`, or the floor when the history no longer reaches back that far. */
  since(rv: number): { changes: Change<T>[] } | { tooOld: number } {
    if (rv < this.floor) return { tooOld: this.floor };
    return { changes: this.history.filter((c) => c.rv > rv).map((c) => clone(c)) };
  }

  /** Forgets the history: every watch from an RV before now is expired. */
  expire(): void {
    this.history = [];
    this.floor = this.rev.current;
  }

  subscribe(fn: (c: Change<T>) => void): () => void {
    this.subscribers.add(fn);
    return () => { this.subscribers.delete(fn); };
  }

  private record(c: Change<T>): void {
    this.history.push(c);
    while (this.history.length > this.limit) {
      const dropped = this.history.shift();
      if (dropped) this.floor = dropped.rv;
    }
    for (const fn of [...this.subscribers]) fn(clone(c));
  }
}
