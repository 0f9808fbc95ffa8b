// Which registries are spoken to over plain http: loopback ones (nothing leaves the machine) and
// those the operator listed as insecure. Everything else is https.
import { isIP } from 'node:net';

/** `host:5000` → `host`, `[::1]:5000` → `::1`, `::1` → `::1`. */
export function hostname(host: string): string {
  const h = host.toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') < 0 ? undefined : h.indexOf(']'));
  if (isIP(h) === 6) return h;
  const colon = h.lastIndexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

export function isLoopback(host: string): boolean {
  const name = hostname(host);
  if (name === 'localhost' || name.endsWith('.localhost') || name === '::1') return true;
  return isIP(name) === 4 && name.startsWith('127.');
}

/**
 * Whether `host` (host[:port]) is reached over http. An `insecure` entry without a port matches
 * the host on any port; one with a port matches only that port.
 */
export function isInsecure(host: string, insecure: readonly string[] = []): boolean {
  if (isLoopback(host)) return true;
  const h = host.toLowerCase();
  const name = hostname(h);
  return insecure.some((entry) => {
    const e = entry.toLowerCase();
    return e === h || e === name;
  });
}

export function registryBaseUrl(host: string, insecure: readonly string[] = []): string {
  return `${isInsecure(host, insecure) ? 'http' : 'https'}://${host}`;
}
