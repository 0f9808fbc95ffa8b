// The OCI registry client: image references, credentials, manifest lookups, push/pull settings.
export { DOCKER_HUB, DOCKER_HUB_API_HOST, DOCKER_HUB_CREDENTIAL_KEY, ImageRefError, formatImageRef, isDockerHub, parseImageRef, registryApiHost } from './image-ref.js';
export type { ImageRef, ImageRefPart } from './image-ref.js';
export {
  CredentialsError,
  DockerConfigCredentialStore,
  MapCredentialStore,
  credentialKey,
  dockerConfigJson,
  registryAuthHeader,
  registryCredentials,
  registryHostKey,
} from './credentials.js';
export type { CredentialStore, RegistryCredentials } from './credentials.js';
export { MANIFEST_ACCEPT, RegistryClient } from './client.js';
export type { ManifestStatus, RegistryClientOptions, RequestOptions } from './client.js';
export { RegistryError } from './errors.js';
export type { RegistryErrorKind } from './errors.js';
export { isInsecure, isLoopback } from './hosts.js';
export { RegistrySettingsError, imageRefs, parseRegistrySettings } from './settings.js';
export type { RegistrySettings } from './settings.js';
