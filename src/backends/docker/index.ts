// The docker backend's public surface.
export { createDockerBackend, type DockerBackend, type DockerBackendOptions } from './backend.js';
export type { RegistryCredentials } from './image.js';
