// The subscribers of a backend's run events (Backend.subscribe). A listener that throws must not
// corrupt the backend's bookkeeping: its error is rethrown on its own, after the others ran.
import type { RunEvent } from './types.js';

export class RunListeners {
  private readonly set = new Set<(e: RunEvent) => void>();

  add(listener: (e: RunEvent) => void): () => void {
    this.set.add(listener);
    return () => { this.set.delete(listener); };
  }

  emit(e: RunEvent): void {
    for (const l of [...this.set]) {
      try {
        l(e);
      } catch (err) {
        queueMicrotask(() => { throw err; });
      }
    }
  }

  clear(): void {
    this.set.clear();
  }
}
