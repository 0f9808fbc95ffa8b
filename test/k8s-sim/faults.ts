// Faults a test can cause on demand (see README.md): watches dropped, ended or expired, bookmarks,
// slowness, failing requests (500 Status, 429 APF plain text, 503), forbidden verbs, a pod deleted
// behind the client's back, a server restart that drops every connection.
import type { Authorizer } from './rbac.js';
import type { RequestInfo } from './router.js';
import type { WatchHub } from './watch.js';

export interface FailRule {
  /** API server verb (get, list, watch, create, delete, …); any when omitted. */
  verb?: string;
  /** `pods`, `pods/log`, `secrets`, …; any when omitted. */
  resource?: string;
  status: 500 | 429 | 503;
  /** How many matching requests fail (default 1). */
  count?: number;
  /** The error text of a 500/503 (default: an etcd timeout). */
  message?: string;
}

export interface FaultDeps {
  hub: WatchHub;
  authz: Authorizer;
  expireHistory(): void;
  deletePod(namespace: string, name: string): void;
  dropConnections(): void;
}

export class Faults {
  /** Added before every answer, in ms. */
  delayMs = 0;
  private readonly failures: (FailRule & { remaining: number })[] = [];

  constructor(private readonly deps: FaultDeps) {}

  /** Ends every open watch stream abruptly (the socket is destroyed mid-stream). */
  dropWatches(): void { this.deps.hub.each((w) => w.drop()); }

  /** Ends every open watch stream cleanly, as the server's own timeout does. */
  endWatches(): void { this.deps.hub.each((w) => w.end()); }

  /** Sends the 410 Expired ERROR to every open watch (which then ends) and forgets the history. */
  expireWatches(): void {
    this.deps.hub.each((w) => w.expire());
    this.deps.expireHistory();
  }

  /** Sends a BOOKMARK now to every watch that asked for bookmarks. */
  bookmark(): void { this.deps.hub.each((w) => w.bookmark()); }

  /** Delays every answer by `ms` (0 turns it off). */
  slow(ms: number): void { this.delayMs = ms; }

  /** The next `count` requests matching verb/resource fail with `status`. */
  failNext(rule: FailRule): void {
    this.failures.push({ ...rule, remaining: rule.count ?? 1 });
  }

  /** Denies `verb` on `resource[/subresource]` from now on (403, and SSAR says not allowed). */
  forbid(verb: string, resource: string, subresource?: string): void {
    this.deps.authz.forbid(subresource === undefined ? { verb, resource } : { verb, resource, subresource });
  }

  /** Deletes a pod behind the client's back, with grace 0 (watchers see it go). */
  deletePod(namespace: string, name: string): void { this.deps.deletePod(namespace, name); }

  /** Drops every connection (watches, logs, attach); storage and watch history are kept. */
  restart(): void { this.deps.dropConnections(); }

  /** The failure this request must answer with, if any (consumes one). */
  take(info: RequestInfo): FailRule | undefined {
    const res = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
    const i = this.failures.findIndex((f) => (f.verb === undefined || f.verb === info.verb) && (f.resource === undefined || f.resource === res));
    const f = this.failures[i];
    if (!f) return undefined;
    f.remaining--;
    if (f.remaining <= 0) this.failures.splice(i, 1);
    return f;
  }
}
