import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { cliEnv, runCli, tempHome } from '../helpers/cli.js';

const MODELS: Record<string, new (o: never) => { validate(): void }> = { ServiceAccount, Role, RoleBinding, Deployment };

async function manifests(args: string[]): Promise<Record<string, unknown>[]> {
  const home = tempHome();
  try {
    const r = await runCli(['k8s', 'manifests', ...args], { env: cliEnv({ WHARF_HOME: home.dir }) });
    assert.equal(r.code, 0, r.stderr);
    return parseAllDocuments(r.stdout).map((d) => d.toJS() as Record<string, unknown>);
  } finally {
    home.cleanup();
  }
}

function rulesOf(docs: Record<string, unknown>[]): string[] {
  const role = docs.find((d) => d.kind === 'Role') as { rules: { resources: string[]; verbs: string[] }[] };
  return role.rules.flatMap((r) => r.resources.map((res) => `${res}: ${r.verbs.join(',')}`));
}

describe('wharf k8s manifests', () => {
  it('prints objects that validate against the official schemas, with no wildcard anywhere', async () => {
    for (const args of [[], ['--builds', '--workloads', '--secrets', '-n', 'ci']]) {
      const docs = await manifests(args);
      assert.deepEqual(docs.map((d) => d.kind), ['ServiceAccount', 'Role', 'RoleBinding', 'Deployment']);
      for (const d of docs) {
        const Model = MODELS[String(d.kind)];
        assert.ok(Model);
        new Model(d as never).validate();
      }
      assert.doesNotMatch(JSON.stringify(docs), /"\*"/);
    }
  });

  it('grants the minimal rules, more only when asked', async () => {
    assert.deepEqual(rulesOf(await manifests([])), ['pods: create,get,list,watch,delete', 'pods/log: get']);
    assert.deepEqual(rulesOf(await manifests(['--builds', '--pull-secrets'])), [
      'pods: create,get,list,watch,delete', 'pods/log: get', 'pods/attach: create,get', 'secrets: create,get,delete',
    ]);
    const docs = await manifests(['-n', 'ci']);
    assert.ok(docs.every((d) => (d.metadata as { namespace: string }).namespace === 'ci'));
  });
});
