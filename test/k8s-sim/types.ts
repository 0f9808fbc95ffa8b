// The seam between the simulator's API server (storage, watch, errors, validation, RBAC, faults)
// and its kubelet (runs pods as real Docker containers and reports their status). Objects are
// plain JSON typed by the official models.
import type { Readable, Writable } from 'node:stream';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IPodStatus } from 'kubernetes-models/v1/PodStatus';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IStatus } from '@kubernetes-models/apimachinery/apis/meta/v1/Status';

export type Pod = IPod;
export type PodStatus = IPodStatus;
export type Secret = ISecret;
/** A metav1.Status as the API server writes it (kind, apiVersion, metadata, status, message, reason, details, code). */
export type Status = IStatus;

/** pods/log query, as PodLogOptions. */
export interface LogOptions {
  container?: string;
  follow: boolean;
  timestamps: boolean;
  /** RFC 3339. */
  sinceTime?: string;
  sinceSeconds?: number;
  tailLines?: number;
  limitBytes?: number;
  previous: boolean;
}

/** What the API server offers its kubelet. */
export interface PodHost {
  /** The pod as stored now, undefined once it is gone. */
  getPod(namespace: string, name: string): Pod | undefined;
  /** Replaces the pod's status (a new resourceVersion, watchers told MODIFIED); ignored when the pod is gone. */
  setStatus(namespace: string, name: string, status: PodStatus): void;
  /** The kubelet's final grace-0 delete after a graceful termination finished (watchers told DELETED). */
  remove(namespace: string, name: string): void;
  /** For secret volumes and imagePullSecrets. */
  getSecret(namespace: string, name: string): Secret | undefined;
  /** The scheduler placed the pod: the server sets spec.nodeName (watchers told MODIFIED). */
  bind?(namespace: string, name: string, node: string): void;
}

/** Faults the kubelet can be told to cause, by the tests. */
export interface KubeletFaults {
  /** Pulls of images matching this fail with the runtime's message (ErrImagePull, then ImagePullBackOff). */
  failImagePull(match: RegExp, message?: string): void;
  /** Evicts a running pod (phase Failed, reason Evicted, the kubelet's message), killing its containers. */
  evict(namespace: string, name: string): Promise<void>;
  /** Kills a running container as the OOM killer would (terminated reason OOMKilled, 137). */
  oomKill(namespace: string, name: string, container?: string): Promise<void>;
}

export interface Kubelet {
  readonly faults: KubeletFaults;
  /** A pod was created: schedule it on a node (or leave it Pending with the scheduler's message) and run it. */
  admit(pod: Pod): void;
  /** A graceful delete: SIGTERM its containers, SIGKILL after `graceSeconds`, then host.remove(). */
  terminate(namespace: string, name: string, graceSeconds: number): void;
  /** pods/log: the output as the kubelet streams it, or the Status the API server should answer (e.g. 400 container waiting). */
  logs(namespace: string, name: string, opts: LogOptions): Promise<Readable | Status>;
  /** pods/attach: the stdin of a container started with `stdin: true`, and its output. */
  attach(namespace: string, name: string, container: string | undefined): Promise<{ stdin: Writable; stdout: Readable; stderr: Readable } | Status>;
  /** Stops every container it started. */
  close(): Promise<void>;
}
