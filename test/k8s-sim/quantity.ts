// resource.Quantity parsing (enough to compare requests with limits and to derive the QoS class).
const SUFFIX: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** The quantity's value, or undefined when it does not parse. */
export function parseQuantity(q: string | number): number | undefined {
  if (typeof q === 'number') return q;
  const m = /^([+-]?(?:\d+|\d+\.\d*|\.\d+))(.*)$/.exec(q);
  if (!m) return undefined;
  const num = Number(m[1]);
  const suffix = m[2] ?? '';
  const exp = /^[eE]([+-]?\d+)$/.exec(suffix);
  if (exp) return num * 10 ** Number(exp[1]);
  const mult = SUFFIX[suffix];
  return mult === undefined ? undefined : num * mult;
}

type ResourceList = Record<string, string | number>;
interface ContainerResources { resources?: { limits?: ResourceList; requests?: ResourceList } }

/** The pod's QoS class (pkg/apis/core/helper/qos). */
export function qosClass(containers: ContainerResources[]): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      const rq = req[r] ?? lim[r]; // requests default to limits
      const l = lim[r];
      if (rq !== undefined && parseQuantity(rq) !== 0) any = true;
      if (l !== undefined && parseQuantity(l) !== 0) any = true;
      if (l === undefined || rq === undefined || parseQuantity(l) !== parseQuantity(rq)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
