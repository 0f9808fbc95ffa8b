// The kubernetes backend: one bare pod per attempt in one namespace, told apart by labels; its
// state comes from one informer on the instance's label (never a poll per pod), its output from
// pods/log. Configuration is injected: the entry point chooses in-cluster or a kubeconfig
// (kubeConfigFrom) and passes the KubeConfig in.
import { Log, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { CredentialStore } from '../../builders/registry/index.js';
import { LABELS, type Backend, type Labels, type OwnedRun, type RunEvent, type RunLogChunk, type RunState, type StartRequest } from '../types.js';
import { isStatus, podApi, type PodApi } from './api.js';
import { podLogs } from './logs.js';
import { ANNOTATIONS, podName, selectorFor, taskSecretName } from './names.js';
import { observePod } from './pod-status.js';
import { PodWatch, type PodEventType } from './pod-watch.js';
import { RunTable } from './run-table.js';
import { startPod, type PodSetup } from './start.js';
import { podUsesSecret } from './task-secret.js';
import { DEFAULT_FEATURE_SETTINGS, type FeatureSettings } from './features.js';
import { checkPodTemplate, type CheckedTemplate, type PodTemplate } from './template.js';

export interface KubernetesBackendOptions {
  /** The cluster and credentials; the caller chose them (kubeConfigFrom). */
  kubeConfig: KubeConfig;
  namespace: string;
  /** The `wharf.dev/instance` label value: what this backend owns and watches. */
  instanceId: string;
  /** Merged into every pod; checked now (PodTemplateError). See template.ts for the rules. */
  podTemplate?: PodTemplate;
  /** Registry credentials become a dockerconfigjson Secret per attempt; or an operator's existing secret. */
  pullSecret?: { credentials: CredentialStore } | { existing: string };
  /** A pod pending this long (unschedulable, image not pulled, …) ends `start_failed`; default 5 min. */
  pendingTimeoutMs?: number;
  /** Keep ended pods this long after `remove` (for debugging); default 0. */
  retainMs?: number;
  /** Bound of each API call; default 30 s. */
  requestTimeoutMs?: number;
  /** terminationGracePeriodSeconds of the pods; default 30. */
  terminationGraceSeconds?: number;
  /** activeDeadlineSeconds = timeout + grace + this margin: the backstop when no worker is left; default 60. */
  deadlineMarginSeconds?: number;
  /** sizeLimit of each pod's /tmp emptyDir; default 256 MiB. */
  tmpBytes?: number;
  /** runAsNonRoot on every pod, not only those whose task states a non-root user. */
  requireNonRoot?: boolean;
  /** What the tasks' `features` add; default DEFAULT_FEATURE_SETTINGS. */
  features?: FeatureSettings;
  /** Where the backend tells of trouble it recovers from (a watch or log stream breaking). */
  report?: (message: string) => void;
}

export interface KubernetesBackend extends Backend {
  readonly name: 'kubernetes';
  readonly canAdopt: true;
}

class KubernetesBackendImpl implements KubernetesBackend {
  readonly name = 'kubernetes';
  readonly canAdopt = true;
  private readonly api: PodApi;
  private readonly watch: PodWatch;
  private readonly runs: RunTable;
  private readonly log: Log;
  private readonly template: CheckedTemplate | undefined;
  private readonly report: (message: string) => void;
  private readonly requests = new Set<AbortController>();
  private closed = false;

  constructor(private readonly o: KubernetesBackendOptions) {
    this.template = o.podTemplate === undefined ? undefined : checkPodTemplate(o.podTemplate);
    this.report = o.report ?? ((m) => process.stderr.write(`[wharf kubernetes backend] ${m}\n`));
    this.api = podApi(o.kubeConfig, o.namespace, o.requestTimeoutMs ?? 30_000);
    this.log = new Log(o.kubeConfig);
    this.runs = new RunTable({ pendingTimeoutMs: o.pendingTimeoutMs ?? 5 * 60_000, podOf: (runId) => this.watch.get(podName(runId)) });
    this.watch = new PodWatch({
      kubeConfig: o.kubeConfig,
      namespace: o.namespace,
      labelSelector: selectorFor(LABELS.instance, o.instanceId),
      list: (selector) => this.api.listPods(selector),
      onPod: (type, pod) => this.onPod(type, pod),
      report: this.report,
    });
  }

  subscribe(listener: (e: RunEvent) => void): () => void {
    return this.runs.subscribe(listener);
  }

  /** The run a pod belongs to, when it is this instance's. */
  private runOf(pod: V1Pod): { runId: string; labels: Labels } | undefined {
    const runId = pod.metadata?.annotations?.[ANNOTATIONS.runId];
    if (!runId) return undefined;
    const labels = exactLabels(pod);
    return labels[LABELS.instance] === this.o.instanceId ? { runId, labels } : undefined;
  }

  private onPod(type: PodEventType, pod: V1Pod): void {
    const run = this.runOf(pod);
    if (!run || this.closed) return;
    const rec = this.runs.get(run.runId);
    if (rec?.removed && rec.state?.phase === 'ended') {
      if (type === 'delete' && !rec.retainTimer) this.runs.forget(run.runId); // gone, as asked
      return;
    }
    this.runs.observe(run.runId, pod, type === 'delete');
  }

  async start(req: StartRequest): Promise<void> {
    const { runId } = req;
    if (this.closed) throw new Error('the kubernetes backend is closed');
    if (runId === '') throw new Error('invalid run id: empty');
    const owner = req.labels[LABELS.instance];
    if (owner !== undefined && owner !== this.o.instanceId) {
      throw new Error(`run ${runId} is labelled for instance ${owner}, but this kubernetes backend watches instance ${this.o.instanceId}`);
    }
    const rec = this.runs.record(runId);
    if (rec.starting) throw new Error(`run ${runId} is already starting`);
    clearTimeout(rec.retainTimer);
    clearTimeout(rec.pendingTimer);
    Object.assign(rec, {
      state: undefined, message: undefined, pullError: undefined, seen: false, stopRequested: false, removed: false, retainTimer: undefined, pendingTimer: undefined,
    });
    rec.starting = (async () => {
      await this.watch.ready(); // nothing the pod does may happen before we listen
      await startPod(this.setup(), req, rec);
    })();
    try {
      await rec.starting;
    } finally {
      rec.starting = undefined;
      this.runs.wakeUp(rec);
    }
  }

  private setup(): PodSetup {
    const o = this.o;
    return {
      api: this.api,
      settings: {
        namespace: o.namespace,
        instanceId: o.instanceId,
        terminationGraceSeconds: o.terminationGraceSeconds ?? 30,
        deadlineMarginSeconds: o.deadlineMarginSeconds ?? 60,
        tmpBytes: o.tmpBytes ?? 256 * 1024 * 1024,
        requireNonRoot: o.requireNonRoot === true,
        imagePullSecrets: [],
        features: o.features ?? DEFAULT_FEATURE_SETTINGS,
      },
      template: this.template,
      pullSecret: o.pullSecret,
      runs: this.runs,
      cached: (name) => this.watch.get(name),
    };
  }

  async inspect(runId: string): Promise<RunState | undefined> {
    await this.watch.ready();
    const rec = this.runs.get(runId);
    if (rec?.removed && !rec.retainTimer) return undefined; // deleted, the informer not told yet
    const told = rec?.state;
    if (told?.phase === 'ended') return told;
    const pod = this.watch.get(podName(runId));
    if (!pod || !this.runOf(pod)) return this.runs.get(runId)?.starting ? { phase: 'starting' } : undefined;
    this.runs.observe(runId, pod, false);
    return this.runs.get(runId)?.state ?? { phase: 'starting' };
  }

  async *logs(runId: string, opts: { follow: boolean; after?: string }): AsyncGenerator<RunLogChunk> {
    await this.watch.ready();
    yield* podLogs({
      log: this.log,
      namespace: this.o.namespace,
      pod: podName(runId),
      progress: () => this.runs.progress(runId),
      changed: () => this.runs.changed(runId),
      track: (c) => {
        this.requests.add(c);
        return () => this.requests.delete(c);
      },
      closed: () => this.closed,
      report: this.report,
      timeoutMs: this.o.requestTimeoutMs ?? 30_000,
    }, opts);
  }

  async stop(runId: string, graceMs: number): Promise<void> {
    const rec = this.runs.record(runId);
    rec.stopRequested = true;
    await rec.starting?.catch(() => undefined); // it will not start now; and what did start is stopped below
    await this.watch.ready();
    const pod = this.watch.get(podName(runId));
    // Nothing left to stop (and a pod kept for debugging stays).
    if (rec.state?.phase === 'ended' || (pod && isOver(pod))) return;
    await this.api.deletePod(podName(runId), Math.max(0, Math.ceil(graceMs / 1000)));
  }

  async remove(runId: string): Promise<void> {
    const known = this.runs.get(runId);
    const rec = known ?? this.runs.record(runId);
    rec.removed = true;
    await rec.starting?.catch(() => undefined);
    await this.watch.ready();
    const name = podName(runId);
    const pod = this.watch.get(name);
    const retainMs = this.o.retainMs ?? 0;
    if (retainMs > 0 && pod && (rec.state?.phase === 'ended' || isOver(pod))) {
      await this.deleteSecrets(name, pod); // a pod kept for debugging needs its secrets no more
      if (rec.retainTimer) return;
      const endedAt = rec.state?.phase === 'ended' ? rec.state.endedAt : Date.now();
      const wait = endedAt + retainMs - Date.now();
      if (wait > 0) {
        rec.retainTimer = setTimeout(() => {
          rec.retainTimer = undefined;
          this.deletePod(runId).catch((e: unknown) => this.report(`removing pod ${name} after its retention: ${(e as Error).message}`));
        }, wait);
        rec.retainTimer.unref();
        return;
      }
    }
    if (known && rec.state?.phase !== 'ended') this.runs.end(runId, { kind: 'error', reason: 'removed' });
    await this.deletePod(runId);
  }

  /** The pod (at once) and its secrets; the record goes with the pod's DELETED event, or now if it is gone. */
  private async deletePod(runId: string): Promise<void> {
    const name = podName(runId);
    const pod = this.watch.get(name);
    await this.api.deletePod(name, 0);
    await this.deleteSecrets(name, pod);
    if (!this.watch.get(name)) this.runs.forget(runId);
  }

  /** The pull secret and the task's secrets of pod `name`. Without the pod, they may still be there (a start cut short). */
  private async deleteSecrets(name: string, pod: V1Pod | undefined): Promise<void> {
    if (this.o.pullSecret && 'credentials' in this.o.pullSecret && (!pod || pod.spec?.imagePullSecrets?.some((s) => s.name === name))) {
      await this.api.deleteSecret(name);
    }
    const own = taskSecretName(name);
    if (pod) {
      if (podUsesSecret(pod, own)) await this.api.deleteSecret(own);
      return;
    }
    // A worker that may not touch secrets made none: its Forbidden means there is nothing to delete.
    await this.api.deleteSecret(own).catch((e: unknown) => { if (!isStatus(e, 403)) throw e; });
  }

  async listOwned(selector: Labels): Promise<OwnedRun[]> {
    await this.watch.ready();
    const out: OwnedRun[] = [];
    for (const pod of this.watch.list()) {
      const run = this.runOf(pod);
      if (!run || !Object.entries(selector).every(([k, v]) => run.labels[k] === v)) continue;
      const rec = this.runs.get(run.runId);
      if (rec?.removed && !rec.retainTimer) continue; // deleted, the informer not told yet
      out.push({ runId: run.runId, labels: run.labels, state: this.runs.stateOf(run.runId, pod) });
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.requests) c.abort();
    this.runs.close();
    await this.watch.close();
  }
}

/** The task container has ended (or never will start): deleting the pod stops nothing. */
function isOver(pod: V1Pod): boolean {
  const k = observePod(pod).kind;
  return k === 'ended' || k === 'start_failed';
}

/** The run's labels, exact (pod labels may be shortened to fit). */
function exactLabels(pod: V1Pod): Labels {
  const text = pod.metadata?.annotations?.[ANNOTATIONS.labels];
  if (text) {
    try {
      const v: unknown = JSON.parse(text);
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
      }
    } catch {
      // fall back to the labels
    }
  }
  return { ...(pod.metadata?.labels ?? {}) };
}

export function createKubernetesBackend(opts: KubernetesBackendOptions): KubernetesBackend {
  return new KubernetesBackendImpl(opts);
}
