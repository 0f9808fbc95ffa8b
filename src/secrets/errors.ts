// The errors of secrets at rest. None ever carries a secret's value or a key: they name the
// secret, the file or the environment variable, and say what was expected.

/** A secret's name is unusable (it must work as an environment variable name). */
export class SecretNameError extends Error {
  override readonly name = 'SecretNameError';
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

/** A secret's value cannot be stored (too short to mask in logs, too long, not storable text). */
export class SecretValueError extends Error {
  override readonly name = 'SecretValueError';
  constructor(readonly secret: string, message: string) {
    super(`secret ${JSON.stringify(secret)}: ${message}`);
  }
}

/** The key that seals secrets could not be loaded or created. `source` is a file path or an env var. */
export class SecretKeyError extends Error {
  override readonly name = 'SecretKeyError';
  constructor(readonly source: string, message: string) {
    super(`${source}: ${message}`);
  }
}

export type DecryptFailure = 'wrong_key_or_tampered' | 'malformed';

/** A stored secret could not be opened with the current key. */
export class SecretDecryptError extends Error {
  override readonly name = 'SecretDecryptError';
  constructor(readonly secret: string, readonly reason: DecryptFailure, detail: string) {
    super(`secret ${JSON.stringify(secret)} cannot be decrypted: ${detail}`);
  }
}
