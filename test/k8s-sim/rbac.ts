// RBAC as a flat table of what the caller may do (default: everything), the 403 message of
// plugin/pkg/auth/authorizer/rbac + responsewriters.forbiddenMessage, and the allow reason SSAR reports.
export interface RbacRule {
  verb: string; // '*' for any
  resource: string; // '*' for any; 'pods/log' is the same as resource 'pods' + subresource 'log'
  subresource?: string;
  /** API group; '' (core) when omitted. */
  group?: string;
}
export type RbacRules = RbacRule[];

export interface Attributes {
  verb: string;
  group: string;
  resource: string;
  subresource: string;
  namespace: string;
}

function split(rule: RbacRule): { resource: string; subresource: string } {
  const [res = '', sub = ''] = rule.resource.split('/');
  return { resource: res, subresource: rule.subresource ?? sub };
}

function matches(rule: RbacRule, a: Attributes): boolean {
  if (rule.verb !== '*' && rule.verb !== a.verb) return false;
  if ((rule.group ?? '') !== '*' && (rule.group ?? '') !== a.group) return false;
  if (rule.resource === '*') return true;
  const r = split(rule);
  return r.resource === a.resource && r.subresource === a.subresource;
}

export class Authorizer {
  private readonly denied: RbacRule[] = [];

  constructor(private readonly rules: RbacRules | undefined, readonly user: string) {}

  /** A fault: deny this from now on, whatever the table says. */
  forbid(rule: RbacRule): void {
    this.denied.push(rule);
  }

  allows(a: Attributes): boolean {
    if (this.denied.some((r) => matches(r, a))) return false;
    return this.rules === undefined || this.rules.some((r) => matches(r, a));
  }

  /** `User "u" cannot get resource "pods/log" in API group "" in the namespace "ns"`. */
  forbiddenReason(a: Attributes): string {
    const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const where = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
    return `User "${this.user}" cannot ${a.verb} resource "${res}" in API group "${a.group}" ${where}`;
  }

  /** The RBAC authorizer's allow reason (SSAR status.reason); none for a denial. */
  allowReason(a: Attributes): string {
    const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(this.user);
    const subject = sa ? `ServiceAccount "${sa[2]}/${sa[1]}"` : `User "${this.user}"`;
    if (this.rules === undefined) return `RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to ${subject}`;
    const ns = a.namespace || (sa ? sa[1] : 'default');
    return `RBAC: allowed by RoleBinding "wharf/${ns}" of Role "wharf" to ${subject}`;
  }
}
