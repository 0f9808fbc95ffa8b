// Starting one run: its pull secret (when Wharf manages them) and the Secret with its task's
// secret values (task-secret.ts), then its pod. What cannot start ends `start_failed` with the
// API server's own reason; only failures of the backend itself (the API unreachable, credentials
// refused) reject. A pod that already exists (a start repeated after a crash) is carried on
// with, never duplicated.
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import { ImageRefError, type CredentialStore } from '../../builders/registry/index.js';
import { LABELS, type StartRequest } from '../types.js';
import { KubernetesApiError, isStatus, type PodApi } from './api.js';
import { ANNOTATIONS, labelValue, podLabels, podName, taskSecretName } from './names.js';
import { buildPod, type PodSettings } from './pod-spec.js';
import { pullSecretFor, type SecretMeta } from './pull-secret.js';
import type { RunRecord, RunTable } from './run-table.js';
import { hasSecrets, taskSecret } from './task-secret.js';
import { applyTemplate, type CheckedTemplate } from './template.js';

export interface PodSetup {
  api: PodApi;
  settings: PodSettings;
  template: CheckedTemplate | undefined;
  pullSecret: { credentials: CredentialStore } | { existing: string } | undefined;
  runs: RunTable;
  cached: (name: string) => V1Pod | undefined;
}

/** Answers that say the pod (or secret) itself is refused: the task's fault, not the backend's. */
function refused(e: unknown): e is KubernetesApiError {
  return e instanceof KubernetesApiError && e.status !== undefined && e.status >= 400 && e.status < 500
    && ![401, 408, 409, 429].includes(e.status);
}

export async function startPod(x: PodSetup, req: StartRequest, rec: RunRecord): Promise<void> {
  const { runId } = req;
  const name = podName(runId);
  const failStart = (reason: string): void => x.runs.failStart(runId, reason);
  const cancelled = (): string | undefined => (rec.removed ? 'removed' : rec.stopRequested ? 'stopped' : undefined);
  const labels = { ...req.labels, [LABELS.instance]: x.settings.instanceId };

  const meta = (secretName: string): SecretMeta => ({
    name: secretName,
    namespace: x.settings.namespace,
    labels: podLabels(labels),
    annotations: { [ANNOTATIONS.runId]: runId, [ANNOTATIONS.labels]: JSON.stringify(labels) },
  });
  const pullSecrets: string[] = [];
  const secrets: V1Secret[] = [];
  if (x.pullSecret && 'existing' in x.pullSecret) pullSecrets.push(x.pullSecret.existing);
  else if (x.pullSecret && req.plan.image) {
    let pull: V1Secret | undefined;
    try {
      pull = pullSecretFor(req.plan.image, x.pullSecret.credentials, meta(name));
    } catch (e) {
      if (e instanceof ImageRefError) return failStart(e.message);
      throw e;
    }
    if (pull) {
      secrets.push(pull);
      pullSecrets.push(name);
    }
  }
  if (hasSecrets(req.secrets)) secrets.push(taskSecret(req.secrets, meta(taskSecretName(name))));
  const built = buildPod(req, { ...x.settings, imagePullSecrets: pullSecrets });
  if ('error' in built) return failStart(built.error);
  const pod = x.template ? applyTemplate(built.pod, x.template) : built.pod;

  const made: string[] = [];
  const dropSecrets = async (): Promise<void> => {
    for (const s of made) await x.api.deleteSecret(s).catch(() => undefined); // remove() tries again
  };
  for (const secret of secrets) {
    const why = await createSecret(x, secret);
    if (why !== undefined) {
      await dropSecrets();
      return failStart(why);
    }
    made.push(secret.metadata?.name ?? '');
  }
  const why = cancelled();
  if (why) {
    await dropSecrets();
    return failStart(`${why} before it started`);
  }
  try {
    x.runs.observe(runId, await x.api.createPod(pod), false);
  } catch (e) {
    if (isStatus(e, 409)) return carryOn(x, runId, name);
    if (refused(e)) {
      await dropSecrets();
      return failStart(e.message);
    }
    throw e;
  }
}

/** Creates a secret of the run; why the run cannot start, if it cannot be made. */
async function createSecret(x: PodSetup, secret: V1Secret): Promise<string | undefined> {
  const name = secret.metadata?.name ?? '';
  try {
    await x.api.createSecret(secret);
  } catch (e) {
    if (refused(e)) return e.message;
    if (!isStatus(e, 409)) throw e;
    // Ours from an earlier start of this run, or someone else's: never use a stranger's.
    const found = await x.api.readSecret(name);
    if (found && found.metadata?.labels?.[LABELS.instance] !== labelValue(x.settings.instanceId)) {
      return `secret ${name} already exists in namespace ${x.settings.namespace} and is not this Wharf instance's`;
    }
  }
  return undefined;
}

/** The pod is there already: carry on from where it is, if it is this run's. */
async function carryOn(x: PodSetup, runId: string, name: string): Promise<void> {
  const pod = x.cached(name) ?? (await x.api.readPod(name));
  if (!pod) return x.runs.failStart(runId, `pod ${name} vanished while being created`);
  const owner = pod.metadata?.annotations?.[ANNOTATIONS.runId];
  const instance = pod.metadata?.labels?.[LABELS.instance];
  if (owner !== runId || instance !== labelValue(x.settings.instanceId)) {
    throw new Error(`pod ${name} exists in namespace ${x.settings.namespace} and is not run ${runId} of this instance (its ${ANNOTATIONS.runId} is ${JSON.stringify(owner ?? null)}, its ${LABELS.instance} ${JSON.stringify(instance ?? null)})`);
  }
  x.runs.observe(runId, pod, false);
}
