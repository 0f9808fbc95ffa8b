// The eviction manager's message (eviction/helpers.go evictionMessage) for a memory-pressure
// eviction of one pod, with each running container's real working set read from the engine.
import type { DockerEngine } from '../../../src/docker/engine.js';
import type { PodWorker } from './pod-worker.js';
import { formatBinary, parseQuantity } from './quantity.js';

interface MemoryStats {
  memory_stats?: { usage?: number; stats?: Record<string, number> };
}

/**
 * The node's numbers are made up (the default hard threshold, memory.available<100Mi, and an
 * availability under it); the containers' usage is measured.
 */
export const NODE_PRESSURE = 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 92160Ki. ';

export async function evictionMessage(engine: DockerEngine, w: PodWorker): Promise<string> {
  let message = NODE_PRESSURE;
  for (const c of w.state.main) {
    if (!c.running || !c.id) continue;
    const s = await engine.request<MemoryStats>('GET', `/containers/${c.id}/stats`, { query: { stream: false, 'one-shot': true } }).catch(() => undefined);
    const m = s?.memory_stats;
    if (m?.usage === undefined) continue;
    // The working set: usage less the inactive page cache (cgroup v1 and v2 names).
    const usage = m.usage - (m.stats?.['total_inactive_file'] ?? m.stats?.['inactive_file'] ?? 0);
    const res = w.spec(c)?.resources;
    const request = res?.requests?.['memory'] ?? res?.limits?.['memory'] ?? 0;
    if (usage > parseQuantity(request)) {
      message += `Container ${c.name} was using ${formatBinary(usage)}, request is ${String(request)}, has larger consumption of memory. `;
    }
  }
  return message;
}
