// What clients cost the API server: requests by `verb resource[/subresource]` (the API server's
// verbs: get, list, watch, create, delete, …) and watch events sent, by type.
export class Counts {
  readonly requests: Record<string, number> = {};
  readonly watchEventsByType: Record<string, number> = {};
  watchEvents = 0;

  request(key: string): void {
    this.requests[key] = (this.requests[key] ?? 0) + 1;
  }

  watchEvent(type: string): void {
    this.watchEvents++;
    this.watchEventsByType[type] = (this.watchEventsByType[type] ?? 0) + 1;
  }

  /** Requests counted under `key` (e.g. `create pods`); 0 if none. */
  get(key: string): number {
    return this.requests[key] ?? 0;
  }

  get totalRequests(): number {
    return Object.values(this.requests).reduce((a, b) => a + b, 0);
  }

  /** A copy of everything counted so far. */
  snapshot(): { requests: Record<string, number>; watchEvents: number; watchEventsByType: Record<string, number> } {
    return { requests: { ...this.requests }, watchEvents: this.watchEvents, watchEventsByType: { ...this.watchEventsByType } };
  }

  reset(): void {
    for (const k of Object.keys(this.requests)) delete this.requests[k];
    for (const k of Object.keys(this.watchEventsByType)) delete this.watchEventsByType[k];
    this.watchEvents = 0;
  }
}
