// How the API server writes objects: Go struct key order (kind, apiVersion, metadata, …), RFC 3339
// second-precision times, deep copies so a stored object is never shared with a caller.
import type { IObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';

/** A JSON value as parsed from a request body. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Any stored object: its metadata always has name (and namespace when namespaced). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: IObjectMeta;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** RFC 3339, UTC, whole seconds — metav1.Time's wire form. */
export function rfc3339(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const META_ORDER = ['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation',
  'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations',
  'ownerReferences', 'finalizers', 'managedFields'];
const TOP_ORDER = ['kind', 'apiVersion', 'metadata', 'spec', 'immutable', 'data', 'stringData', 'type', 'status'];

function ordered<T extends object>(obj: T, order: string[]): T {
  const src = obj as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of order) if (src[k] !== undefined) out[k] = src[k];
  for (const k of Object.keys(src)) if (!(k in out) && src[k] !== undefined) out[k] = src[k];
  return out as T;
}

/** The object as the server serialises it: key order of the Go structs, `kind`/`apiVersion` on or off. */
export function wireObject<T extends KubeObject>(obj: T, withTypeMeta: boolean): T {
  const copy = clone(obj);
  if (copy.metadata) copy.metadata = ordered(copy.metadata, META_ORDER);
  const out = ordered(copy, TOP_ORDER);
  if (!withTypeMeta) {
    delete out.kind;
    delete out.apiVersion;
  }
  return out;
}

export function metaOf(obj: KubeObject): IObjectMeta {
  return obj.metadata ?? {};
}

export function key(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}
