// Kubernetes resource quantities ("500m", "2", "64Mi", "1G", "1e3") as numbers, and back to the
// canonical binary text the kubelet prints in its eviction messages.

export class QuantityError extends Error {
  override readonly name = 'QuantityError';
}

const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

const RE = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

/** The value in base units (cores for cpu, bytes for memory). */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = RE.exec(q.trim());
  if (!m) throw new QuantityError(`quantity ${JSON.stringify(q)}: expected a number with an optional suffix (m, k, M, G, Ki, Mi, Gi, …)`);
  const n = Number(m[1]);
  if (m[2]) return n * 10 ** Number(m[2].slice(1));
  return n * (SUFFIX[m[3] ?? ''] ?? 1);
}

/**
 * resource.NewQuantity(n, BinarySI).String(): the largest binary suffix that divides exactly;
 * below 1024, or when none divides, the canonical decimal form (the largest exact k, M, G…).
 */
export function formatBinary(bytes: number): string {
  const n = Math.round(bytes);
  if (Math.abs(n) >= 1024 && n % 1024 === 0) return scaled(n, 1024, ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei']);
  return scaled(n, 1000, ['', 'k', 'M', 'G', 'T', 'P', 'E']);
}

function scaled(n: number, base: number, units: string[]): string {
  if (n === 0) return '0';
  let v = n;
  let i = 0;
  while (i < units.length - 1 && v % base === 0) {
    v /= base;
    i++;
  }
  return `${v}${units[i] ?? ''}`;
}
