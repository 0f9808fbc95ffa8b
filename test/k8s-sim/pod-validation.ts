// pkg/apis/core/validation rules for a pod that the OpenAPI schema does not carry: names,
// containers (name, image, ports, env, mounts, resources), restartPolicy/dnsPolicy enums.
import type { IContainer } from 'kubernetes-models/v1/Container';
import { parseQuantity } from './quantity.js';
import { fieldError, type FieldError } from './status.js';
import type { Pod } from './types.js';
import { dns1123Label, envVarName, qualifiedName, validateObjectMeta } from './validation.js';

const STANDARD_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);

function validateResources(c: IContainer, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const lists = { limits: c.resources?.limits ?? {}, requests: c.resources?.requests ?? {} };
  for (const [which, list] of Object.entries(lists)) {
    for (const [name, q] of Object.entries(list)) {
      const f = `${path}.resources.${which}[${name}]`;
      const standard = STANDARD_RESOURCES.has(name) || name.startsWith('hugepages-');
      if (!standard && (!name.includes('/') || qualifiedName(name).length > 0)) {
        errs.push(fieldError.invalid(f, name, 'must be a standard resource type or fully qualified'));
      }
      const v = parseQuantity(q);
      if (v !== undefined && v < 0) errs.push(fieldError.invalid(f, String(q), 'must be greater than or equal to 0'));
    }
  }
  for (const [name, rq] of Object.entries(lists.requests)) {
    const lim = lists.limits[name];
    if (lim === undefined) continue;
    const r = parseQuantity(rq);
    const l = parseQuantity(lim);
    if (r !== undefined && l !== undefined && r > l) {
      errs.push(fieldError.invalid(`${path}.resources.requests`, String(rq), `must be less than or equal to ${name} limit of ${String(lim)}`));
    }
  }
  return errs;
}

function validateContainer(c: IContainer, path: string, volumes: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.image) errs.push(fieldError.required(`${path}.image`));
  else if (c.image.trim() !== c.image) errs.push(fieldError.invalid(`${path}.image`, c.image, 'must not have leading or trailing whitespace'));
  if (c.imagePullPolicy && !['Always', 'IfNotPresent', 'Never'].includes(c.imagePullPolicy)) {
    errs.push(fieldError.notSupported(`${path}.imagePullPolicy`, c.imagePullPolicy, ['Always', 'IfNotPresent', 'Never']));
  }
  (c.ports ?? []).forEach((p, i) => {
    if (p.containerPort < 1 || p.containerPort > 65535) {
      errs.push(fieldError.invalid(`${path}.ports[${i}].containerPort`, p.containerPort, 'must be between 1 and 65535, inclusive'));
    }
  });
  (c.env ?? []).forEach((e, i) => {
    if (!e.name) errs.push(fieldError.required(`${path}.env[${i}].name`));
    else for (const m of envVarName(e.name)) errs.push(fieldError.invalid(`${path}.env[${i}].name`, e.name, m));
  });
  (c.volumeMounts ?? []).forEach((m, i) => {
    if (!m.name) errs.push(fieldError.required(`${path}.volumeMounts[${i}].name`));
    else if (!volumes.has(m.name)) errs.push(fieldError.notFound(`${path}.volumeMounts[${i}].name`, m.name));
    if (!m.mountPath) errs.push(fieldError.required(`${path}.volumeMounts[${i}].mountPath`));
  });
  errs.push(...validateResources(c, path));
  return errs;
}

/** ValidatePodCreate's findings beyond the schema, in the order the real validation reports them. */
export function validatePod(pod: Pod): FieldError[] {
  const errs = validateObjectMeta(pod.metadata ?? {});
  const spec = pod.spec;
  if (!spec) return [...errs, fieldError.required('spec.containers')];
  const volumes = new Set<string>();
  (spec.volumes ?? []).forEach((v, i) => {
    const f = `spec.volumes[${i}].name`;
    if (!v.name) errs.push(fieldError.required(f));
    else {
      for (const m of dns1123Label(v.name)) errs.push(fieldError.invalid(f, v.name, m));
      if (volumes.has(v.name)) errs.push(fieldError.duplicate(f, v.name));
      volumes.add(v.name);
    }
  });
  const names = new Set<string>();
  const checkName = (c: IContainer, path: string): void => {
    if (!c.name) { errs.push(fieldError.required(`${path}.name`)); return; }
    for (const m of dns1123Label(c.name)) errs.push(fieldError.invalid(`${path}.name`, c.name, m));
    if (names.has(c.name)) errs.push(fieldError.duplicate(`${path}.name`, c.name));
    names.add(c.name);
  };
  (spec.initContainers ?? []).forEach((c, i) => {
    checkName(c, `spec.initContainers[${i}]`);
    errs.push(...validateContainer(c, `spec.initContainers[${i}]`, volumes));
  });
  if (!spec.containers || spec.containers.length === 0) errs.push(fieldError.required('spec.containers'));
  (spec.containers ?? []).forEach((c, i) => {
    checkName(c, `spec.containers[${i}]`);
    errs.push(...validateContainer(c, `spec.containers[${i}]`, volumes));
  });
  if (spec.restartPolicy && !['Always', 'OnFailure', 'Never'].includes(spec.restartPolicy)) {
    errs.push(fieldError.notSupported('spec.restartPolicy', spec.restartPolicy, ['Always', 'OnFailure', 'Never']));
  }
  if (spec.dnsPolicy && !['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'].includes(spec.dnsPolicy)) {
    errs.push(fieldError.notSupported('spec.dnsPolicy', spec.dnsPolicy, ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']));
  }
  const ads = spec.activeDeadlineSeconds;
  if (ads !== undefined && (ads < 1 || ads > 2147483647)) {
    errs.push(fieldError.invalid('spec.activeDeadlineSeconds', ads, 'must be between 1 and 2147483647, inclusive'));
  }
  return errs;
}

/** Merges schema findings into the rule findings: one error per field and type, rules first. */
export function mergeFieldErrors(rules: FieldError[], schema: FieldError[]): FieldError[] {
  const seen = new Set(rules.map((e) => `${e.field}|${e.type}`));
  const ruleFields = new Set(rules.map((e) => e.field));
  return [...rules, ...schema.filter((e) => !seen.has(`${e.field}|${e.type}`) && !ruleFields.has(e.field))];
}
