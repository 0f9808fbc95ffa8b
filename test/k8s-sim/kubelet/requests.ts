// The answers pods/log and pods/attach give before any byte streams: the API server's choice of
// container (registry/core/pod/strategy.go LogLocation), and the kubelet's refusals
// (validateContainerLogStatus), as the metav1.Status the API server sends.
import type { Pod, Status } from '../types.js';
import type { ContainerState } from './status.js';

export function statusError(code: number, reason: string, message: string): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

export const badRequest = (message: string): Status => statusError(400, 'BadRequest', message);

export function notFound(name: string): Status {
  return { ...statusError(404, 'NotFound', `pods "${name}" not found`), details: { name, kind: 'pods' } };
}

/** The container a request names, or the pod's only one; a 400 otherwise. */
export function pickContainer(pod: Pod, container: string | undefined): string | Status {
  const name = pod.metadata?.name ?? '';
  const containers = (pod.spec?.containers ?? []).map((c) => c.name);
  const inits = (pod.spec?.initContainers ?? []).map((c) => c.name);
  if (!container) {
    if (containers.length === 1) return containers[0] ?? '';
    if (containers.length === 0) return badRequest(`a container name must be specified for pod ${name}`);
    let msg = `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`;
    if (inits.length > 0) msg += ` or one of the init containers: [${inits.join(' ')}]`;
    return badRequest(msg);
  }
  if (!containers.includes(container) && !inits.includes(container)) return badRequest(`container ${container} is not valid for pod ${name}`);
  return container;
}

/** The Docker id whose log to stream, or the kubelet's refusal. */
export function logTarget(pod: string, c: ContainerState, previous: boolean, hasInit: boolean): string | Status {
  const quoted = `container "${c.name}" in pod "${pod}"`;
  if (previous) return badRequest(`previous terminated container "${c.name}" in pod "${pod}" not found`);
  if (c.running && c.id) return c.id;
  if (c.terminated) {
    if (c.terminated.containerID && c.id) return c.id;
    return badRequest(`${quoted} is terminated`);
  }
  const reason = c.waiting?.reason ?? (hasInit ? 'PodInitializing' : 'ContainerCreating');
  if (reason === 'ErrImagePull') return badRequest(`${quoted} is waiting to start: image can't be pulled`);
  if (reason === 'ImagePullBackOff') return badRequest(`${quoted} is waiting to start: trying and failing to pull image`);
  return badRequest(`${quoted} is waiting to start: ${reason}`);
}
