// Discovery documents (k8s-reference/discovery/): only what this server serves, in the real shapes.
export type KubeVersion = '1.32' | '1.34';

export function versionInfo(v: KubeVersion): Record<string, string> {
  if (v === '1.32') {
    return {
      major: '1', minor: '32', gitVersion: 'v1.32.3', gitCommit: '32cc146f75aad04beaaa245a7157eb35063a9f99',
      gitTreeState: 'clean', buildDate: '2025-03-11T19:52:21Z', goVersion: 'go1.23.6', compiler: 'gc', platform: 'linux/arm64',
    };
  }
  return {
    major: '1', minor: '34', emulationMajor: '1', emulationMinor: '34', minCompatibilityMajor: '1', minCompatibilityMinor: '33',
    gitVersion: 'v1.34.3', gitCommit: 'df11db1c0f08fab3c0baee1e5ce6efbf816af7f1', gitTreeState: 'clean',
    buildDate: '2025-12-09T14:59:13Z', goVersion: 'go1.24.11', compiler: 'gc', platform: 'linux/amd64',
  };
}

export function apiVersions(serverAddress: string): unknown {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

/** /api/v1: an APIResourceList without apiVersion (as the real one is served). */
export function coreV1Resources(): unknown {
  const crud = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
  return {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['ns'], storageVersionHash: 'Q3oi5N2YM8M=' },
      { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: crud, shortNames: ['po'], categories: ['all'], storageVersionHash: 'xPOwRZ+Yhw8=' },
      { name: 'pods/attach', singularName: '', namespaced: true, kind: 'PodAttachOptions', verbs: ['create', 'get'] },
      { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
      { name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] },
      { name: 'secrets', singularName: 'secret', namespaced: true, kind: 'Secret', verbs: crud, storageVersionHash: 'S6u1pOWzb84=' },
    ],
  };
}

const AUTHZ_GROUP = {
  name: 'authorization.k8s.io',
  versions: [{ groupVersion: 'authorization.k8s.io/v1', version: 'v1' }],
  preferredVersion: { groupVersion: 'authorization.k8s.io/v1', version: 'v1' },
};

export function apiGroups(): unknown {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [AUTHZ_GROUP] };
}

export function authzGroup(): unknown {
  return { kind: 'APIGroup', apiVersion: 'v1', ...AUTHZ_GROUP };
}

export function authzV1Resources(): unknown {
  return {
    kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'authorization.k8s.io/v1',
    resources: [
      { name: 'localsubjectaccessreviews', singularName: 'localsubjectaccessreview', namespaced: true, kind: 'LocalSubjectAccessReview', verbs: ['create'] },
      { name: 'selfsubjectaccessreviews', singularName: 'selfsubjectaccessreview', namespaced: false, kind: 'SelfSubjectAccessReview', verbs: ['create'] },
      { name: 'selfsubjectrulesreviews', singularName: 'selfsubjectrulesreview', namespaced: false, kind: 'SelfSubjectRulesReview', verbs: ['create'] },
      { name: 'subjectaccessreviews', singularName: 'subjectaccessreview', namespaced: false, kind: 'SubjectAccessReview', verbs: ['create'] },
    ],
  };
}

/** The discovery document for a non-resource path, or undefined. */
export function discoveryDoc(path: string, v: KubeVersion, serverAddress: string): unknown {
  switch (path.replace(/\/$/, '') || '/') {
    case '/version': return versionInfo(v);
    case '/api': return apiVersions(serverAddress);
    case '/api/v1': return coreV1Resources();
    case '/apis': return apiGroups();
    case '/apis/authorization.k8s.io': return authzGroup();
    case '/apis/authorization.k8s.io/v1': return authzV1Resources();
    default: return undefined;
  }
}
