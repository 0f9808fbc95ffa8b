// Which backend a task runs on, and whether its fields make sense there. Pure: the service
// calls it at submit with the backends this installation has.
import type { ErrorDetail } from './api.js';
import type { BackendName, JobSpec, TaskSpec } from './schema.js';

/** Fields only container backends (docker, kubernetes) understand. */
const CONTAINER_FIELDS = ['image', 'build', 'user', 'network', 'capabilities', 'privileged', 'writableRootfs', 'inputs', 'outputs', 'features'] as const;

export interface PlacementOptions {
  /** Backend of a task that names none and has no image or build. */
  defaultBackend: BackendName;
  available: readonly BackendName[];
}

/**
 * A task's backend: its own, else a container backend when it has an image or a build (docker
 * before kubernetes, whichever this installation has), else the default.
 */
export function backendOf(t: TaskSpec, o: PlacementOptions): BackendName {
  if (t.backend) return t.backend;
  if (t.image !== undefined || t.build !== undefined) {
    const container = (['docker', 'kubernetes'] as const).find((b) => o.available.includes(b));
    if (container) return container;
  }
  return o.defaultBackend;
}

/** The spec with every task's backend filled in, and every placement error at once. */
export function place(spec: JobSpec, o: PlacementOptions): { spec: JobSpec; errors: ErrorDetail[] } {
  const errors: ErrorDetail[] = [];
  const tasks: JobSpec['tasks'] = {};
  for (const [name, t] of Object.entries(spec.tasks)) {
    const backend = backendOf(t, o);
    tasks[name] = { ...t, backend };
    errors.push(...taskErrors(`tasks.${name}`, t, backend, o.available));
  }
  return { spec: { ...spec, tasks }, errors };
}

function taskErrors(at: string, t: TaskSpec, backend: BackendName, available: readonly BackendName[]): ErrorDetail[] {
  // Queued work no worker could ever claim would wait forever: refuse it now.
  if (!available.includes(backend)) {
    return [{ path: `${at}.backend`, message: `the ${backend} backend is not available here (available: ${available.join(', ')})` }];
  }
  const errors: ErrorDetail[] = secretErrors(at, t, backend);
  if (backend === 'local') {
    for (const f of CONTAINER_FIELDS) {
      if (t[f] !== undefined) errors.push({ path: `${at}.${f}`, message: `only container backends (docker, kubernetes) use ${f}; this task runs on the local backend` });
    }
    return errors;
  }
  if (backend === 'kubernetes') {
    // Not there yet on pods: no file copies in or out, and the pod network is the cluster's.
    for (const f of ['inputs', 'outputs', 'network'] as const) {
      if (t[f] !== undefined) errors.push({ path: `${at}.${f}`, message: `the kubernetes backend does not support ${f} yet` });
    }
  }
  if (backend === 'docker' && t.features !== undefined) {
    errors.push({ path: `${at}.features`, message: 'features are pod additions: only the kubernetes backend has them' });
  }
  if (backend === 'kubernetes' && t.user !== undefined && !/^\d+(?::\d+)?$/.test(t.user)) {
    errors.push({ path: `${at}.user`, message: `expected a numeric user ("1000" or "1000:1000") on the kubernetes backend, got ${JSON.stringify(t.user)}: Kubernetes cannot look user names up in the image` });
  }
  if (t.image === undefined && t.build === undefined) {
    errors.push({ path: `${at}.image`, message: `expected an image or a build: the ${backend} backend runs containers` });
  }
  const hostPaths: [string, string | undefined][] = [
    [`${at}.build.context`, t.build?.context],
    ...(t.inputs ?? []).map((c, i): [string, string] => [`${at}.inputs[${i}].from`, c.from]),
    ...(t.outputs ?? []).map((c, i): [string, string] => [`${at}.outputs[${i}].to`, c.to]),
  ];
  for (const [path, p] of hostPaths) {
    if (p === undefined) continue;
    if (!p.startsWith('/')) {
      errors.push({ path, message: `expected an absolute path on the worker's host, got ${JSON.stringify(p)} (the CLI resolves paths relative to the job file)` });
    } else if (p.split('/').includes('..')) {
      errors.push({ path, message: `expected a path without ".." segments, got ${JSON.stringify(p)}` });
    }
  }
  return errors;
}

/** Each secret lands somewhere of its own: no variable set twice, files only in containers. */
function secretErrors(at: string, t: TaskSpec, backend: BackendName): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const vars = new Set(Object.keys(t.env ?? {}));
  const files = new Set<string>();
  for (const [i, ref] of (t.secrets ?? []).entries()) {
    const r = secretRef(ref);
    const path = `${at}.secrets[${i}]`;
    if ('file' in r) {
      if (backend === 'local') errors.push({ path: `${path}.file`, message: 'secret files need a container backend (docker, kubernetes); on the local backend use env' });
      else if (files.has(r.file)) errors.push({ path: `${path}.file`, message: `${JSON.stringify(r.file)} is already another secret's file` });
      files.add(r.file);
    } else {
      if (vars.has(r.env)) errors.push({ path, message: `the environment variable ${r.env} is set twice (by env or another secret)` });
      vars.add(r.env);
    }
  }
  return errors;
}

export type SecretRef = { name: string; env: string } | { name: string; file: string };

/** A secret reference in its one form: where the value goes. */
export function secretRef(ref: NonNullable<TaskSpec['secrets']>[number]): SecretRef {
  if (typeof ref === 'string') return { name: ref, env: ref };
  if (ref.file !== undefined) return { name: ref.name, file: ref.file };
  return { name: ref.name, env: ref.env ?? ref.name };
}
