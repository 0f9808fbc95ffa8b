// Where a worker gets the values of a task's secrets at the start of an attempt: the store's
// sealed rows, opened with the installation's key. Values live only in the worker's memory for
// the attempt; nothing here logs or throws one.
import type { AdminStore } from '../store/admin.js';
import type { SecretBox } from './box.js';

export interface SecretSource {
  /** name → value for every one of `names`; a SecretMissingError when one does not exist. */
  resolve(names: readonly string[]): Promise<Map<string, string>>;
}

/** A task names a secret that is not (or no longer) stored. */
export class SecretMissingError extends Error {
  override readonly name = 'SecretMissingError';
  constructor(readonly secret: string) {
    super(`secret ${secret} does not exist (any more): wharf secret set ${secret}`);
  }
}

export function storeSecrets(admin: Pick<AdminStore, 'getSecrets'>, box: SecretBox): SecretSource {
  return {
    async resolve(names) {
      const wanted = [...new Set(names)];
      const out = new Map<string, string>();
      if (wanted.length === 0) return out;
      const rows = new Map((await admin.getSecrets(wanted)).map((r) => [r.name, r]));
      for (const name of wanted) {
        const row = rows.get(name);
        if (!row) throw new SecretMissingError(name);
        out.set(name, box.open(name, row.sealed)); // a SecretDecryptError names the secret only
      }
      return out;
    },
  };
}
