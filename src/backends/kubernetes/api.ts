// The few API calls the backend makes, each bounded by a client timeout (and the server's
// `timeoutSeconds` where the API takes one), each failure turned into a KubernetesApiError with
// the server's own Status message. Also the KubeConfig factory for the entry point: the backend
// itself never loads a configuration, it is given one.
import {
  CoreV1Api,
  KubeConfig,
  ServerConfiguration,
  createConfiguration,
  type Middleware,
  type RequestContext,
  type ResponseContext,
  type V1Pod,
  type V1PodList,
  type V1Secret,
} from '@kubernetes/client-node';

export class KubernetesApiError extends Error {
  override readonly name = 'KubernetesApiError';
  constructor(
    message: string,
    /** HTTP status, when the server answered. */
    readonly status?: number,
    /** The Status object's reason (`AlreadyExists`, `Forbidden`, `Expired`, …). */
    readonly reason?: string,
  ) {
    super(message);
  }
}

export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
}

/** A KubeConfig for the entry point: in-cluster, or a kubeconfig file (and context). Never the defaults. */
export function kubeConfigFrom(o: { path?: string; context?: string; inCluster?: boolean }): KubeConfig {
  const kc = new KubeConfig();
  if (o.inCluster) {
    if (o.path !== undefined) throw new KubeConfigError('give either a kubeconfig path or in-cluster configuration, not both');
    kc.loadFromCluster();
  } else if (o.path !== undefined) {
    try {
      kc.loadFromFile(o.path);
    } catch (e) {
      throw new KubeConfigError(`cannot load kubeconfig ${o.path}: ${(e as Error).message}`);
    }
  } else {
    throw new KubeConfigError('no Kubernetes configuration: give a kubeconfig path, or in-cluster configuration when running in a pod');
  }
  if (o.context !== undefined) {
    if (!kc.getContextObject(o.context)) {
      throw new KubeConfigError(`kubeconfig ${o.path ?? '(in-cluster)'} has no context ${JSON.stringify(o.context)} (it has: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    }
    kc.setCurrentContext(o.context);
  }
  if (!kc.getCurrentCluster()) throw new KubeConfigError(`kubeconfig ${o.path ?? '(in-cluster)'} names no current cluster`);
  return kc;
}

function timeoutMiddleware(ms: number): Middleware {
  return {
    pre: (ctx: RequestContext) => {
      ctx.setSignal(AbortSignal.timeout(ms));
      return Promise.resolve(ctx);
    },
    post: (ctx: ResponseContext) => Promise.resolve(ctx),
  };
}

/** The Status message of an error body, else its text (an APF 429 is plain text), bounded. */
export function statusMessage(body: unknown): { message?: string; reason?: string } {
  let v: unknown = body;
  if (typeof body === 'string') {
    try {
      v = JSON.parse(body);
    } catch {
      const text = body.trim();
      return text ? { message: text.slice(0, 500) } : {};
    }
  }
  if (typeof v === 'object' && v !== null) {
    const s = v as { message?: unknown; reason?: unknown };
    return {
      ...(typeof s.message === 'string' && s.message ? { message: s.message } : {}),
      ...(typeof s.reason === 'string' && s.reason ? { reason: s.reason } : {}),
    };
  }
  return {};
}

/** Anything client-node throws, as a KubernetesApiError saying what was being done. */
export function apiError(e: unknown, what: string, timeoutMs?: number): KubernetesApiError {
  if (e instanceof KubernetesApiError) return e;
  const x = e as { code?: unknown; statusCode?: unknown; body?: unknown; name?: unknown; message?: unknown };
  // client-node's Watch answers a refused watch with Error(statusText) and its statusCode, no body.
  if (typeof x?.statusCode === 'number' && x.code === undefined) {
    return new KubernetesApiError(`${what}: HTTP ${x.statusCode}${typeof x.message === 'string' && x.message ? ` ${x.message}` : ''}`, x.statusCode);
  }
  if (typeof x?.code === 'number' && x.code >= 100 && x.code < 600) {
    const s = statusMessage(x.body);
    const text = s.message ?? (x.code === 401 ? 'Unauthorized (the credentials in the kubeconfig were refused)' : `HTTP ${x.code}`);
    return new KubernetesApiError(`${what}: ${text}`, x.code, s.reason);
  }
  if (x?.name === 'AbortError' || x?.name === 'TimeoutError') {
    return new KubernetesApiError(`${what}: no answer from the Kubernetes API server within ${Math.round((timeoutMs ?? 0) / 1000)} s`);
  }
  return new KubernetesApiError(`${what}: ${typeof x?.message === 'string' ? x.message : String(e)}`);
}

export function isStatus(e: unknown, code: number): boolean {
  return e instanceof KubernetesApiError && e.status === code;
}

export interface PodApi {
  createPod(pod: V1Pod): Promise<V1Pod>;
  readPod(name: string): Promise<V1Pod | undefined>;
  /** False when there was no such pod. */
  deletePod(name: string, graceSeconds: number): Promise<boolean>;
  listPods(labelSelector: string): Promise<V1PodList>;
  createSecret(secret: V1Secret): Promise<void>;
  readSecret(name: string): Promise<V1Secret | undefined>;
  /** False when there was no such secret. */
  deleteSecret(name: string): Promise<boolean>;
}

export function podApi(kc: KubeConfig, namespace: string, timeoutMs: number): PodApi {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeConfigError('the KubeConfig given to the kubernetes backend has no current cluster');
  const api = new CoreV1Api(createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
    promiseMiddleware: [timeoutMiddleware(timeoutMs)],
  }));
  const serverSeconds = Math.max(1, Math.floor(timeoutMs / 1000) - 1);
  const call = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      throw apiError(e, what, timeoutMs);
    }
  };
  const absent = async (what: string, f: () => Promise<unknown>): Promise<boolean> => {
    try {
      await call(what, f);
      return true;
    } catch (e) {
      if (isStatus(e, 404)) return false;
      throw e;
    }
  };
  return {
    createPod: (pod) => call(`creating pod ${pod.metadata?.name ?? ''} in namespace ${namespace}`, () => api.createNamespacedPod({ namespace, body: pod })),
    readPod: async (name) => {
      try {
        return await call(`reading pod ${name} in namespace ${namespace}`, () => api.readNamespacedPod({ name, namespace }));
      } catch (e) {
        if (isStatus(e, 404)) return undefined;
        throw e;
      }
    },
    deletePod: (name, graceSeconds) => absent(`deleting pod ${name} in namespace ${namespace}`, () =>
      api.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: graceSeconds })),
    listPods: (labelSelector) => call(`listing pods (${labelSelector}) in namespace ${namespace}`, () =>
      api.listNamespacedPod({ namespace, labelSelector, timeoutSeconds: serverSeconds })),
    createSecret: async (secret) => {
      await call(`creating secret ${secret.metadata?.name ?? ''} in namespace ${namespace}`, () => api.createNamespacedSecret({ namespace, body: secret }));
    },
    readSecret: async (name) => {
      try {
        return await call(`reading secret ${name} in namespace ${namespace}`, () => api.readNamespacedSecret({ name, namespace }));
      } catch (e) {
        if (isStatus(e, 404)) return undefined;
        throw e;
      }
    },
    deleteSecret: (name) => absent(`deleting secret ${name} in namespace ${namespace}`, () => api.deleteNamespacedSecret({ name, namespace })),
  };
}
