// The local backend's public surface.
export { createLocalBackend, type LocalBackend, type LocalBackendOptions } from './backend.js';
export { DEFAULT_PATH } from './spawn.js';
