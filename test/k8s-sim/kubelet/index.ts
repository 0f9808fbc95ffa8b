// The simulator's kubelet: pods as real Docker containers, with the statuses, logs and attach
// the real kubelet gives. The API server half calls createDockerKubelet.
export { createDockerKubelet, KubeletFaultError, type BindingPodHost, type DockerKubelet, type DockerKubeletOptions } from './kubelet.js';
export { INSTANCE_LABEL } from './create-body.js';
export type { NodeSpec } from './scheduler.js';
export type { Timing } from './pod-worker.js';
