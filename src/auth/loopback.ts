// Whether a listen address is reachable only from this machine; a server bound elsewhere must
// require credentials.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6'); // IPv4-mapped 127/8

/** 127.0.0.0/8, ::1 (also `[::1]`, IPv4-mapped ::ffff:127.x) and `localhost`; anything else is not. */
export function isLoopbackHost(host: string): boolean {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h === 'localhost') return true;
  if (isIPv4(h)) return LOOPBACK.check(h, 'ipv4');
  if (isIPv6(h)) return LOOPBACK.check(h, 'ipv6');
  return false;
}

/** True unless `host` is loopback: '' / 0.0.0.0 / :: (every interface) and any other name or address require auth. */
export function bindRequiresAuth(host: string): boolean {
  return !isLoopbackHost(host);
}
