// create and delete of pods and secrets, in the order the apiserver works: decode (400), namespace
// exists (404), defaults, validation (422), admission (RuntimeClass, Pod Security: 403), storage (409).
import type { Ctx } from './context.js';
import { fieldValidation, queryInt } from './context.js';
import { KINDS, decodeBody, warningHeader, type KindSpec } from './decode.js';
import { readJson, sendJson } from './http-io.js';
import { applyPodDefaults } from './pod-defaults.js';
import { podSecurityViolation } from './pod-security.js';
import { mergeFieldErrors, validatePod } from './pod-validation.js';
import { prepareSecret } from './secrets.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { StatusError, alreadyExists, badRequest, conflict, fieldError, forbidden, invalid, notFound, success, type FieldError } from './status.js';
import type { Pod, Secret } from './types.js';
import { generateSuffix } from './validation.js';
import { wireObject, type JsonObject } from './wire.js';

interface Decoded<T> { obj: T; warnings: string[]; schemaErrors: FieldError[] }

async function decodeForCreate<T extends { metadata?: { name?: string; generateName?: string; namespace?: string; resourceVersion?: string } }>(ctx: Ctx, spec: KindSpec): Promise<Decoded<T>> {
  const ns = ctx.info.namespace;
  if (!ctx.cluster.namespaces.get(undefined, ns)) throw new StatusError(notFound('namespaces', ns));
  const d = decodeBody(spec, await readJson(ctx.req), fieldValidation(ctx.info.query));
  const obj = d.obj as unknown as T;
  const meta = { ...obj.metadata };
  if (meta.namespace && meta.namespace !== ns) {
    throw new StatusError(badRequest('the namespace of the provided object does not match the namespace sent on the request'));
  }
  if (meta.resourceVersion) throw new StatusError(badRequest('resourceVersion should not be set on objects to be created'));
  meta.namespace = ns;
  if (!meta.name && meta.generateName) meta.name = meta.generateName + generateSuffix();
  obj.metadata = meta;
  return { obj, warnings: d.warnings, schemaErrors: d.fieldErrors };
}

function created(ctx: Ctx, obj: object, warnings: string[]): void {
  sendJson(ctx.res, 201, obj, warnings.length ? { Warning: warningHeader(warnings) } : {});
}

export async function createPod(ctx: Ctx): Promise<void> {
  const { obj: pod, warnings, schemaErrors } = await decodeForCreate<Pod>(ctx, KINDS.Pod);
  const name = pod.metadata?.name ?? '';
  // server-owned fields a client cannot set on create
  if (pod.metadata) { delete pod.metadata.uid; delete pod.metadata.creationTimestamp; delete pod.metadata.deletionTimestamp; delete pod.metadata.deletionGracePeriodSeconds; }
  applyPodDefaults(pod, ctx.config.version);
  const errs = mergeFieldErrors(validatePod(pod), schemaErrors);
  if (errs.length) throw new StatusError(invalid('Pod', name, errs));
  // Admission: the RuntimeClass plugin (mutating) before Pod Security (validating).
  const runtimeClass = pod.spec?.runtimeClassName;
  if (runtimeClass !== undefined && !ctx.cluster.runtimeClasses.includes(runtimeClass)) {
    throw new StatusError(forbidden('pods', name, `pod rejected: RuntimeClass ${JSON.stringify(runtimeClass)} not found`));
  }
  const level = ctx.cluster.podSecurityLevel(ctx.info.namespace);
  const violation = podSecurityViolation(pod, level);
  if (violation) throw new StatusError(forbidden('pods', name, violation));
  if (ctx.cluster.pods.get(ctx.info.namespace, name)) throw new StatusError(alreadyExists('pods', name));
  const stored = ctx.cluster.pods.create(pod);
  created(ctx, wireObject(stored, true), warnings);
  try {
    ctx.cluster.kubelet?.admit(stored);
  } catch (e) {
    // the answer is already out; a kubelet that cannot take the pod leaves it Pending
    process.stderr.write(`k8s-sim: the kubelet refused pod ${ctx.info.namespace}/${name}: ${e instanceof Error ? e.message : String(e)}\n`);
  }
}

export async function createSecret(ctx: Ctx): Promise<void> {
  const { obj: secret, warnings, schemaErrors } = await decodeForCreate<Secret>(ctx, KINDS.Secret);
  const name = secret.metadata?.name ?? '';
  const errs = mergeFieldErrors(prepareSecret(secret), schemaErrors);
  if (errs.length) throw new StatusError(invalid('Secret', name, errs));
  if (ctx.cluster.secrets.get(ctx.info.namespace, name)) throw new StatusError(alreadyExists('secrets', name));
  created(ctx, wireObject(ctx.cluster.secrets.create(secret), true), warnings);
}

interface DeleteOptions { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string }; propagationPolicy?: string }

/** DeleteOptions from the body, or — when there is none — from the query (handlers/delete.go). */
async function deleteOptions(ctx: Ctx): Promise<DeleteOptions> {
  const body = await readJson(ctx.req);
  let opts: DeleteOptions;
  if (body !== undefined) {
    opts = decodeBody(KINDS.DeleteOptions, body, 'Ignore').obj as JsonObject as DeleteOptions;
  } else {
    const q = ctx.info.query;
    opts = {};
    const g = queryInt(q, 'gracePeriodSeconds');
    if (g !== undefined) opts.gracePeriodSeconds = g;
    const p = q.get('propagationPolicy');
    if (p) opts.propagationPolicy = p;
  }
  const policy = opts.propagationPolicy;
  if (policy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(policy)) {
    throw new StatusError(invalid('DeleteOptions', '', [fieldError.notSupported('propagationPolicy', policy, ['Foreground', 'Background', 'Orphan'])], 'meta.k8s.io'));
  }
  return opts;
}

export async function deletePod(ctx: Ctx): Promise<void> {
  const opts = await deleteOptions(ctx);
  const pod = ctx.cluster.deletePod(ctx.info.namespace, ctx.info.name, opts.gracePeriodSeconds, opts.preconditions ?? {}, true);
  sendJson(ctx.res, 200, wireObject(pod, true));
}

/** deletecollection: every pod matching the selectors, each as a single delete would; answers the list. */
export async function deletePods(ctx: Ctx): Promise<void> {
  const opts = await deleteOptions(ctx);
  const q = ctx.info.query;
  const label = parseLabelSelector(q.get('labelSelector') ?? undefined);
  const field = parseFieldSelector('pods', q.get('fieldSelector') ?? undefined);
  const ns = ctx.info.namespace;
  const items = ctx.cluster.pods.list(ns).filter((p) => label(p) && field(p))
    .map((p) => ctx.cluster.deletePod(ns, p.metadata?.name ?? '', opts.gracePeriodSeconds, {}, true));
  sendJson(ctx.res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(ctx.cluster.rev.current) }, items: items.map((p) => wireObject(p, false)) });
}

export async function deleteSecret(ctx: Ctx): Promise<void> {
  const opts = await deleteOptions(ctx);
  const { namespace, name } = ctx.info;
  const cur = ctx.cluster.secrets.get(namespace, name);
  if (!cur) throw new StatusError(notFound('secrets', name));
  const pre = opts.preconditions ?? {};
  if (pre.uid !== undefined && pre.uid !== cur.metadata?.uid) {
    throw new StatusError(conflict('secrets', name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata?.uid ?? ''}`));
  }
  ctx.cluster.secrets.remove(namespace, name);
  // secrets' registry does not return the deleted object: a Success Status
  sendJson(ctx.res, 200, success({ name, kind: 'secrets', uid: cur.metadata?.uid ?? '' }));
}
