// Secrets at rest: names and values, the key, and sealing. A store keeps one row per secret:
// (name, sealed, created_at, updated_at); only SecretBox.open ever turns `sealed` back into text.
export { SecretBox, SECRET_KEY_BYTES, secretKeyId } from './box.js';
export { SecretDecryptError, SecretKeyError, SecretNameError, SecretValueError, type DecryptFailure } from './errors.js';
export { loadOrCreateKey, SECRET_KEY_ENV, SECRET_KEY_FILE, type KeyOptions } from './key.js';
export { MAX_SECRET_NAME_LENGTH, MAX_SECRET_VALUE_BYTES, parseSecretName, parseSecretValue } from './names.js';
export { SecretMissingError, storeSecrets, type SecretSource } from './source.js';

/** A stored secret, as a store row holds it (times in ms since the epoch, as elsewhere in the store). */
export interface SealedSecret {
  name: string;
  sealed: string;
  createdAt: number;
  updatedAt: number;
}
