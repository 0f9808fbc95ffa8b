// labelSelector (apimachinery labels.Parse: =, ==, !=, in, notin, exists, !exists, gt, lt) and
// fieldSelector (=, ==, != over the fields each resource's GetAttrs exposes).
import { StatusError, badRequest } from './status.js';
import type { KubeObject } from './wire.js';

type LabelReq =
  | { op: 'exists' | '!exists'; key: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'gt' | 'lt'; key: string; value: number };

export type Selector = (obj: KubeObject) => boolean;

function fail(sel: string, why: string): never {
  throw new StatusError(badRequest(`unable to parse requirement: ${why} (in selector "${sel}")`));
}

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(sel: string, k: string): string {
  if (!KEY.test(k)) fail(sel, `invalid label key "${k}"`);
  return k;
}
function checkValue(sel: string, v: string): string {
  if (v.length > 63 || !VALUE.test(v)) fail(sel, `invalid label value: "${v}"`);
  return v;
}

/** Splits on commas that are not inside an `in (...)` value set. */
function splitTop(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { parts.push(cur); cur = ''; } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

function parseLabelReq(sel: string, raw: string): LabelReq {
  const s = raw.trim();
  if (s.startsWith('!')) return { op: '!exists', key: checkKey(sel, s.slice(1).trim()) };
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(s);
  if (set) {
    const values = (set[3] ?? '').split(',').map((v) => checkValue(sel, v.trim()));
    return { op: set[2] === 'in' ? 'in' : 'notin', key: checkKey(sel, set[1] ?? ''), values };
  }
  const cmp = /^([^=!<>\s]+)\s*(==|=|!=|<|>)\s*(.*)$/.exec(s);
  if (cmp) {
    const k = checkKey(sel, cmp[1] ?? '');
    const v = (cmp[3] ?? '').trim();
    if (cmp[2] === '<' || cmp[2] === '>') {
      const n = Number(v);
      if (!/^-?\d+$/.test(v)) fail(sel, `for 'Gt', 'Lt' operators, the value must be an integer`);
      return { op: cmp[2] === '<' ? 'lt' : 'gt', key: k, value: n };
    }
    checkValue(sel, v);
    return { op: cmp[2] === '!=' ? 'notin' : 'in', key: k, values: [v] };
  }
  if (/\s/.test(s)) fail(sel, `found '${s}', expected: in, notin, =, ==, !=, gt, lt`);
  return { op: 'exists', key: checkKey(sel, s) };
}

function matchLabel(req: LabelReq, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const v = labels[req.key];
  switch (req.op) {
    case 'exists': return has;
    case '!exists': return !has;
    case 'in': return has && req.values.includes(v ?? '');
    case 'notin': return !has || !req.values.includes(v ?? '');
    case 'gt': return has && /^-?\d+$/.test(v ?? '') && Number(v) > req.value;
    case 'lt': return has && /^-?\d+$/.test(v ?? '') && Number(v) < req.value;
  }
}

export function parseLabelSelector(sel: string | undefined): Selector {
  if (sel === undefined || sel.trim() === '') return () => true;
  const reqs = splitTop(sel).map((p) => parseLabelReq(sel, p));
  return (obj) => {
    const labels = obj.metadata?.labels ?? {};
    return reqs.every((r) => matchLabel(r, labels));
  };
}

/** The field set each resource's GetAttrs offers (pod: registry/core/pod/strategy.go ToSelectableFields). */
export function selectableFields(resource: string, obj: KubeObject): Record<string, string> {
  const o = obj as KubeObject & {
    spec?: { nodeName?: string; restartPolicy?: string; schedulerName?: string; serviceAccountName?: string; hostNetwork?: boolean };
    status?: { phase?: string; podIP?: string; nominatedNodeName?: string };
    type?: string;
  };
  const f: Record<string, string> = { 'metadata.name': o.metadata?.name ?? '' };
  if (resource !== 'namespaces') f['metadata.namespace'] = o.metadata?.namespace ?? '';
  if (resource === 'pods') {
    Object.assign(f, {
      'spec.nodeName': o.spec?.nodeName ?? '',
      'spec.restartPolicy': o.spec?.restartPolicy ?? '',
      'spec.schedulerName': o.spec?.schedulerName ?? '',
      'spec.serviceAccountName': o.spec?.serviceAccountName ?? '',
      'spec.hostNetwork': String(o.spec?.hostNetwork ?? false),
      'status.phase': o.status?.phase ?? '',
      'status.podIP': o.status?.podIP ?? '',
      'status.nominatedNodeName': o.status?.nominatedNodeName ?? '',
    });
  }
  if (resource === 'secrets') f['type'] = o.type ?? '';
  if (resource === 'namespaces') f['status.phase'] = o.status?.phase ?? '';
  return f;
}

function unescapeField(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}

export function parseFieldSelector(resource: string, sel: string | undefined): Selector {
  if (sel === undefined || sel.trim() === '') return () => true;
  const probe = selectableFields(resource, {});
  const reqs = sel.split(/(?<!\\),/).map((part) => {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
    if (!m) throw new StatusError(badRequest(`invalid selector: '${sel}'; can't understand '${part}'`));
    const field = m[1] ?? '';
    if (!(field in probe)) throw new StatusError(badRequest(`field label not supported: ${field}`));
    return { field, neg: m[2] === '!=', value: unescapeField(m[3] ?? '') };
  });
  return (obj) => {
    const fields = selectableFields(resource, obj);
    return reqs.every((r) => (fields[r.field] === r.value) !== r.neg);
  };
}
