// Pod Security admission (k8s.io/pod-security-admission/policy) for the checks that matter to a
// task pod: baseline checks, then restricted ones, each sorted by check ID; restricted checks
// replace the baseline check they override. Message: `violates PodSecurity "restricted:latest": …`.
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { Pod } from './types.js';

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';
type Result = { reason: string; detail: string } | undefined;

const quote = (xs: string[]): string => xs.map((x) => JSON.stringify(x)).join(', ');
const plural = (one: string, many: string, n: number): string => (n === 1 ? one : many);

function containersOf(pod: Pod): IContainer[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
}

function hostNamespaces(pod: Pod): Result {
  const s = pod.spec;
  const set = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((k) => s?.[k] === true).map((k) => `${k}=true`);
  return set.length ? { reason: 'host namespaces', detail: set.join(', ') } : undefined;
}

function hostPorts(pod: Pod): Result {
  const bad: string[] = [];
  const ports: string[] = [];
  for (const c of containersOf(pod)) {
    const hp = (c.ports ?? []).map((p) => p.hostPort ?? 0).filter((p) => p !== 0);
    if (hp.length) { bad.push(c.name); ports.push(...hp.map(String)); }
  }
  if (!bad.length) return undefined;
  return { reason: 'hostPort', detail: `${plural('container', 'containers', bad.length)} ${quote(bad)} ${plural('uses', 'use', bad.length)} ${plural('hostPort', 'hostPorts', ports.length)} ${ports.join(', ')}` };
}

function privileged(pod: Pod): Result {
  const bad = containersOf(pod).filter((c) => c.securityContext?.privileged === true).map((c) => c.name);
  if (!bad.length) return undefined;
  return { reason: 'privileged', detail: `${plural('container', 'containers', bad.length)} ${quote(bad)} must not set securityContext.privileged=true` };
}

function allowPrivilegeEscalation(pod: Pod): Result {
  const bad = containersOf(pod).filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => c.name);
  if (!bad.length) return undefined;
  return { reason: 'allowPrivilegeEscalation != false', detail: `${plural('container', 'containers', bad.length)} ${quote(bad)} must set securityContext.allowPrivilegeEscalation=false` };
}

function capabilitiesRestricted(pod: Pod): Result {
  const noDrop: string[] = [];
  const added = new Map<string, string[]>();
  for (const c of containersOf(pod)) {
    const caps = c.securityContext?.capabilities;
    if (!(caps?.drop ?? []).includes('ALL')) noDrop.push(c.name);
    const bad = (caps?.add ?? []).filter((a) => a !== 'NET_BIND_SERVICE');
    if (bad.length) added.set(c.name, bad);
  }
  const parts: string[] = [];
  if (noDrop.length) parts.push(`${plural('container', 'containers', noDrop.length)} ${quote(noDrop)} must set securityContext.capabilities.drop=["ALL"]`);
  if (added.size) {
    const names = [...added.keys()];
    const caps = [...new Set([...added.values()].flat())];
    parts.push(`${plural('container', 'containers', names.length)} ${quote(names)} must not include ${quote(caps)} in securityContext.capabilities.add`);
  }
  return parts.length ? { reason: 'unrestricted capabilities', detail: parts.join('; ') } : undefined;
}

const ALLOWED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

function restrictedVolumes(pod: Pod): Result {
  const bad: string[] = [];
  const types = new Set<string>();
  for (const v of pod.spec?.volumes ?? []) {
    const kinds = Object.keys(v).filter((k) => k !== 'name');
    const t = kinds.find((k) => !ALLOWED_VOLUMES.includes(k));
    if (t) { bad.push(v.name); types.add(t); }
  }
  if (!bad.length) return undefined;
  return { reason: 'restricted volume types', detail: `${plural('volume', 'volumes', bad.length)} ${quote(bad)} ${plural('uses', 'use', bad.length)} ${plural('restricted volume type', 'restricted volume types', types.size)} ${quote([...types])}` };
}

function runAsNonRoot(pod: Pod): Result {
  const podLevel = pod.spec?.securityContext?.runAsNonRoot;
  const explicitFalse: string[] = [];
  const implicit: string[] = [];
  for (const c of containersOf(pod)) {
    const v = c.securityContext?.runAsNonRoot;
    if (v === false) explicitFalse.push(c.name);
    else if (v === undefined && podLevel !== true) implicit.push(c.name);
  }
  const parts: string[] = [];
  if (podLevel === false) parts.push('pod must not set securityContext.runAsNonRoot=false');
  if (explicitFalse.length) parts.push(`${plural('container', 'containers', explicitFalse.length)} ${quote(explicitFalse)} must not set securityContext.runAsNonRoot=false`);
  if (implicit.length && podLevel !== false) parts.push(`pod or ${plural('container', 'containers', implicit.length)} ${quote(implicit)} must set securityContext.runAsNonRoot=true`);
  return parts.length ? { reason: 'runAsNonRoot != true', detail: parts.join('; ') } : undefined;
}

function runAsUser(pod: Pod): Result {
  const parts: string[] = [];
  if (pod.spec?.securityContext?.runAsUser === 0) parts.push('pod must not set runAsUser=0');
  const bad = containersOf(pod).filter((c) => c.securityContext?.runAsUser === 0).map((c) => c.name);
  if (bad.length) parts.push(`${plural('container', 'containers', bad.length)} ${quote(bad)} must not set runAsUser=0`);
  return parts.length ? { reason: 'runAsUser=0', detail: parts.join('; ') } : undefined;
}

function seccompProfile(pod: Pod): Result {
  const ok = (t: string | undefined): boolean => t === 'RuntimeDefault' || t === 'Localhost';
  const podType = pod.spec?.securityContext?.seccompProfile?.type;
  const parts: string[] = [];
  if (podType !== undefined && !ok(podType)) parts.push(`pod must not set securityContext.seccompProfile.type to ${JSON.stringify(podType)}`);
  const badExplicit: string[] = [];
  const unset: string[] = [];
  for (const c of containersOf(pod)) {
    const t = c.securityContext?.seccompProfile?.type;
    if (t !== undefined && !ok(t)) badExplicit.push(c.name);
    else if (t === undefined && !ok(podType)) unset.push(c.name);
  }
  if (badExplicit.length) parts.push(`${plural('container', 'containers', badExplicit.length)} ${quote(badExplicit)} must not set securityContext.seccompProfile.type to "Unconfined"`);
  if (unset.length && podType === undefined) parts.push(`pod or ${plural('container', 'containers', unset.length)} ${quote(unset)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`);
  return parts.length ? { reason: 'seccompProfile', detail: parts.join('; ') } : undefined;
}

/** Containers whose securityContext field `get` reads as one of `bad`, as "container(s) … must not set …". */
function forbiddenValue(pod: Pod, reason: string, field: string, get: (c: IContainer) => string | undefined, bad: readonly string[]): Result {
  const hits = containersOf(pod).filter((c) => { const v = get(c); return v !== undefined && bad.includes(v); });
  if (!hits.length) return undefined;
  const values = [...new Set(hits.map((c) => get(c) ?? ''))];
  return { reason, detail: `${plural('container', 'containers', hits.length)} ${quote(hits.map((c) => c.name))} must not set securityContext.${field} to ${quote(values)}` };
}

function appArmorProfile(pod: Pod): Result {
  return forbiddenValue(pod, 'forbidden AppArmor profile', 'appArmorProfile.type', (c) => c.securityContext?.appArmorProfile?.type, ['Unconfined']);
}

/** Docker's default set: a baseline pod may add these and no others. */
const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
]);

function capabilitiesBaseline(pod: Pod): Result {
  const names: string[] = [];
  const caps = new Set<string>();
  for (const c of containersOf(pod)) {
    const bad = (c.securityContext?.capabilities?.add ?? []).filter((a) => !BASELINE_CAPABILITIES.has(a));
    if (bad.length) { names.push(c.name); for (const b of bad) caps.add(b); }
  }
  if (!names.length) return undefined;
  return { reason: 'non-default capabilities', detail: `${plural('container', 'containers', names.length)} ${quote(names)} must not include ${quote([...caps])} in securityContext.capabilities.add` };
}

function hostPathVolumes(pod: Pod): Result {
  const bad = (pod.spec?.volumes ?? []).filter((v) => v.hostPath !== undefined).map((v) => v.name);
  return bad.length ? { reason: 'hostPath volumes', detail: `${plural('volume', 'volumes', bad.length)} ${quote(bad)}` } : undefined;
}

function procMount(pod: Pod): Result {
  return forbiddenValue(pod, 'procMount', 'procMount', (c) => c.securityContext?.procMount, ['Unmasked']);
}

function seccompBaseline(pod: Pod): Result {
  if (pod.spec?.securityContext?.seccompProfile?.type === 'Unconfined') {
    return { reason: 'seccompProfile', detail: 'pod must not set securityContext.seccompProfile.type to "Unconfined"' };
  }
  return forbiddenValue(pod, 'seccompProfile', 'seccompProfile.type', (c) => c.securityContext?.seccompProfile?.type, ['Unconfined']);
}

const BASELINE = [appArmorProfile, capabilitiesBaseline, hostNamespaces, hostPathVolumes, hostPorts, privileged, procMount, seccompBaseline];
const RESTRICTED = [allowPrivilegeEscalation, capabilitiesRestricted, restrictedVolumes, runAsNonRoot, runAsUser, seccompProfile];
/** Baseline checks a restricted one replaces (it checks the same field more strictly). */
const OVERRIDDEN = new Set<(pod: Pod) => Result>([capabilitiesBaseline, hostPathVolumes, seccompBaseline]);

/** The forbidden text after `pods "x" is forbidden: `, or undefined when the pod is allowed. */
export function podSecurityViolation(pod: Pod, level: PodSecurityLevel): string | undefined {
  if (level === 'privileged') return undefined;
  const checks = level === 'restricted' ? [...BASELINE.filter((c) => !OVERRIDDEN.has(c)), ...RESTRICTED] : BASELINE;
  const failed = checks.map((c) => c(pod)).filter((r): r is NonNullable<Result> => r !== undefined);
  if (!failed.length) return undefined;
  const text = failed.map((f) => (f.detail ? `${f.reason} (${f.detail})` : f.reason)).join(', ');
  return `violates PodSecurity "${level}:latest": ${text}`;
}
