// Fault switch: make the stand-in answer the next N requests of a method (a Web API method name, or
// 'response_url' for response_url posts) with a 5xx, a 429 with Retry-After, or no answer at all.
// A faulted request is NOT carried out (no message stored, no response_url use spent), exactly as
// when Slack fails before acting; it is recorded in calls() with its status (0 for a hang).

export interface FaultOptions {
  /** HTTP status to answer: 500, 502, 503 or 429 (default 500). Ignored when hangMs is set. */
  status?: 500 | 502 | 503 | 429;
  /** Seconds for the Retry-After header (429 only; default 1). */
  retryAfter?: number;
  /** Answer nothing for this long, then drop the connection (a timeout, without acting). */
  hangMs?: number;
}

export interface PendingFault extends FaultOptions {
  method: string;
}

export class SlackFaults {
  readonly #queue = new Map<string, FaultOptions[]>();
  /** Faults served so far, by method. */
  readonly served: PendingFault[] = [];

  failNext(method: string, n: number, o: FaultOptions = {}): void {
    const q = this.#queue.get(method) ?? [];
    for (let i = 0; i < n; i++) q.push({ ...o });
    this.#queue.set(method, q);
  }

  /** The next fault for `method`, consumed, or undefined when the request should go through. */
  take(method: string): FaultOptions | undefined {
    const f = this.#queue.get(method)?.shift();
    if (f) this.served.push({ method, ...f });
    return f;
  }

  pending(method?: string): number {
    if (method !== undefined) return this.#queue.get(method)?.length ?? 0;
    let n = 0;
    for (const q of this.#queue.values()) n += q.length;
    return n;
  }

  reset(): void {
    this.#queue.clear();
    this.served.length = 0;
  }
}
