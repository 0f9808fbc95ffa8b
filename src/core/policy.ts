// Checks a job against the server's policy at submit: every violation at once, each naming the
// field and the rule that refused it. Pure.
import type { ErrorDetail } from '../spec/api.js';
import type { Policy } from '../spec/policy.js';
import type { JobSpec, TaskSpec } from '../spec/schema.js';
import { cpuCores, memoryBytes } from '../spec/plan.js';
import { formatImageRef, parseImageRef } from '../builders/registry/image-ref.js';

export function policyErrors(spec: JobSpec, policy: Policy): ErrorDetail[] {
  return Object.entries(spec.tasks).flatMap(([name, t]) => {
    const at = `tasks.${name}`;
    if (t.backend !== undefined && !policy.allowedBackends.includes(t.backend)) {
      return [{ path: `${at}.backend`, message: `backend ${t.backend}: refused by the server's policy (allowedBackends: ${JSON.stringify(policy.allowedBackends)})` }];
    }
    return [...resourceErrors(at, t, policy), ...(t.backend === 'local' ? [] : taskErrors(at, t, policy))];
  });
}

function resourceErrors(at: string, t: TaskSpec, p: Policy): ErrorDetail[] {
  const max = p.maxResources;
  const errors: ErrorDetail[] = [];
  if (max?.cpu !== undefined && t.resources?.cpu !== undefined && cpuCores(t.resources.cpu) > max.cpu) {
    errors.push({ path: `${at}.resources.cpu`, message: `${t.resources.cpu} CPUs: refused by the server's policy (maxResources.cpu: ${max.cpu})` });
  }
  if (max?.memory !== undefined && t.resources?.memory !== undefined && memoryBytes(t.resources.memory) > memoryBytes(max.memory)) {
    errors.push({ path: `${at}.resources.memory`, message: `${t.resources.memory} of memory: refused by the server's policy (maxResources.memory: ${max.memory})` });
  }
  return errors;
}

/** Whether an image reference matches one of the patterns, as written or fully qualified. */
export function imageAllowed(image: string, patterns: readonly string[]): boolean {
  let full = image;
  try {
    full = formatImageRef(parseImageRef(image));
  } catch {
    // Not a valid reference: only a pattern for the text as written can allow it.
  }
  return patterns.some((p) => {
    const re = new RegExp(`^${p.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    return re.test(image) || re.test(full);
  });
}

function taskErrors(at: string, t: TaskSpec, p: Policy): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const refuse = (field: string, rule: string, what: string): void => {
    errors.push({ path: `${at}.${field}`, message: `${what}: refused by the server's policy (${rule})` });
  };
  if (t.image !== undefined && !imageAllowed(t.image, p.allowedImages)) {
    refuse('image', `allowedImages: ${JSON.stringify(p.allowedImages)}`, `image ${JSON.stringify(t.image)}`);
  }
  if (t.privileged && !p.allowPrivileged) refuse('privileged', 'allowPrivileged: false', 'a privileged container');
  for (const [i, c] of (t.capabilities ?? []).entries()) {
    if (!p.allowedCapabilities.includes(c)) refuse(`capabilities[${i}]`, `allowedCapabilities: ${JSON.stringify(p.allowedCapabilities)}`, `capability ${c}`);
  }
  for (const [i, f] of (t.features ?? []).entries()) {
    if (!p.allowedFeatures.includes(f)) refuse(`features[${i}]`, `allowedFeatures: ${JSON.stringify(p.allowedFeatures)}`, `feature ${f}`);
  }
  if (t.network !== undefined && !networkAllowed(t.network, p.allowedNetworks)) {
    refuse('network', `allowedNetworks: ${JSON.stringify(p.allowedNetworks)}`, `network ${JSON.stringify(t.network)}`);
  }
  if (p.requireNonRoot) {
    if (t.user === undefined) refuse('user', 'requireNonRoot: true', 'no user stated (the image\'s user may be root)');
    else if (isRoot(t.user)) refuse('user', 'requireNonRoot: true', `user ${JSON.stringify(t.user)} is root`);
  }
  if (t.writableRootfs && !p.allowWritableRootfs) refuse('writableRootfs', 'allowWritableRootfs: false', 'a writable root filesystem');
  const hostPaths: [string, string | undefined][] = [
    ['build.context', t.build?.context],
    ...(t.inputs ?? []).map((c, i): [string, string] => [`inputs[${i}].from`, c.from]),
    ...(t.outputs ?? []).map((c, i): [string, string] => [`outputs[${i}].to`, c.to]),
  ];
  for (const [field, path] of hostPaths) {
    if (path !== undefined && !p.allowedHostPaths.some((prefix) => within(path, prefix))) {
      refuse(field, `allowedHostPaths: ${JSON.stringify(p.allowedHostPaths)}`, `host path ${JSON.stringify(path)}`);
    }
  }
  return errors;
}

function networkAllowed(name: string, allowed: readonly string[]): boolean {
  if (name === 'none' || allowed.includes(name)) return true;
  return name !== 'host' && allowed.includes('*');
}

function isRoot(user: string): boolean {
  const u = user.split(':')[0];
  return u === '0' || u === 'root';
}

/** Whether `path` is `prefix` or inside it, segment-wise ("/data2" is not inside "/data"). */
function within(path: string, prefix: string): boolean {
  const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return path === prefix || path.startsWith(p);
}
