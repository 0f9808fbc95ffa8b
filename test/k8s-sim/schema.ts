// The official type map of every API field (client-node's generated models, from the Kubernetes
// OpenAPI spec): used to drop unknown fields as the non-strict decoder does, and to name fields and
// Go types in decode errors.
import * as models from '@kubernetes/client-node';
import { isObject, type Json } from './wire.js';

interface Attribute { name: string; baseName: string; type: string; format: string }
interface ModelClass { getAttributeTypeMap(): Attribute[] }

const registry = models as unknown as Record<string, unknown>;

function modelOf(type: string): ModelClass | undefined {
  const m = registry[type];
  if (typeof m === 'function' && 'getAttributeTypeMap' in m) return m as unknown as ModelClass;
  return undefined;
}

const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;

/** Removes fields the schema does not know, returning the `unknown field "…"` warnings in path order. */
export function pruneUnknown(value: Json, type: string): string[] {
  const warnings: string[] = [];
  walk(value, type, '', warnings);
  return warnings;
}

function walk(value: Json, type: string, path: string, warnings: string[]): void {
  const arr = ARRAY.exec(type);
  if (arr) {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, arr[1] ?? 'any', `${path}[${i}]`, warnings));
    return;
  }
  const map = MAP.exec(type);
  if (map) {
    if (isObject(value)) for (const [k, v] of Object.entries(value)) walk(v, map[1] ?? 'any', `${path}[${k}]`, warnings);
    return;
  }
  const model = modelOf(type);
  if (!model || !isObject(value)) return;
  const attrs = model.getAttributeTypeMap();
  for (const k of Object.keys(value)) {
    const attr = attrs.find((a) => a.baseName === k);
    const child = path ? `${path}.${k}` : k;
    if (!attr) {
      warnings.push(`unknown field "${child}"`);
      delete value[k];
      continue;
    }
    const v = value[k];
    if (v !== undefined) walk(v, attr.type, child, warnings);
  }
}

/** Where an ajv instancePath points, in the API server's words. */
export interface FieldInfo {
  /** `spec.containers[0].image` (field.Path form). */
  field: string;
  /** `spec.containers.image` (encoding/json's UnmarshalTypeError.Field: no indices). */
  jsonField: string;
  /** Go struct holding the field: `Container`. */
  goStruct: string;
  /** Go type of the field: `string`, `int32`, `[]v1.Container`, … */
  goType: string;
}

function goName(model: string): string {
  return model.replace(/^(?:[A-Z][a-z]+)?V\d+(?:(?:alpha|beta)\d+)?(?=[A-Z])/, '');
}

function goType(type: string, format: string): string {
  const arr = ARRAY.exec(type);
  if (arr) return `[]${goType(arr[1] ?? 'any', '')}`;
  const map = MAP.exec(type);
  if (map) return `map[string]${goType(map[1] ?? 'any', '')}`;
  switch (type) {
    case 'string': return format === 'byte' ? '[]uint8' : 'string';
    case 'number': return format === 'int32' || format === 'int64' ? format : 'float64';
    case 'boolean': return 'bool';
    case 'Date': return 'v1.Time';
    case 'IntOrString': return 'intstr.IntOrString';
    case 'any': return 'interface {}';
    default: return `v1.${goName(type)}`;
  }
}

/** Resolves `/spec/containers/0/image` under `rootType` (e.g. V1Pod). */
export function fieldInfo(rootType: string, instancePath: string): FieldInfo {
  const segs = instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let type = rootType;
  let format = '';
  let struct = goName(rootType);
  let field = '';
  const jsonParts: string[] = [];
  for (const seg of segs) {
    const arr = ARRAY.exec(type);
    const map = MAP.exec(type);
    if (arr) { field += `[${seg}]`; type = arr[1] ?? 'any'; format = ''; continue; }
    if (map) { field += `[${seg}]`; type = map[1] ?? 'any'; format = ''; continue; }
    const attr = modelOf(type)?.getAttributeTypeMap().find((a) => a.baseName === seg);
    struct = goName(type);
    field = field ? `${field}.${seg}` : seg;
    jsonParts.push(seg);
    type = attr?.type ?? 'any';
    format = attr?.format ?? '';
  }
  return { field, jsonField: jsonParts.join('.'), goStruct: struct, goType: goType(type, format) };
}
