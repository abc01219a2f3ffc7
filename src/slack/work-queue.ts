/**
 * The work behind acknowledged Slack requests (a slash command, a button click, an event), queued
 * so that the work never stands in front of an ack: Slack gives 3 s to answer, and a busy bot
 * that runs each command before it reads the next request misses them.
 *
 * Drained at a lower priority than incoming requests: at most one item starts per turn of the
 * event loop, from setImmediate (the check phase, after the poll phase has served pending I/O), so
 * requests that have arrived are read, verified and acked before more work starts. Bounded twice:
 * `concurrency` items run at once, `backlog` wait. offer() refuses beyond that, so the caller can
 * answer "busy" truthfully instead of the work being dropped or the memory growing without end.
 */

export interface WorkItem {
  run: () => Promise<void>;
  /** Called instead of run() when the queue stops before the item started (tell the user nothing was done). */
  abandon: () => Promise<void>;
}

export interface WorkQueueOptions {
  /** Items running at the same time (default 16). */
  concurrency?: number;
  /** Items waiting to start (default 2,000). */
  backlog?: number;
  /** Where a failing item's error goes (an item is expected to report its own failures). */
  onError?: (err: unknown) => void;
}

export const DEFAULT_WORK_CONCURRENCY = 16;
export const DEFAULT_WORK_BACKLOG = 2000;

export class WorkQueue {
  readonly concurrency: number;
  readonly backlog: number;
  #waiting: WorkItem[] = [];
  #head = 0;
  #running = 0;
  #scheduled = false;
  #stopped = false;
  #onError: (err: unknown) => void;
  #idle: Array<() => void> = [];

  constructor(o: WorkQueueOptions = {}) {
    this.concurrency = o.concurrency ?? DEFAULT_WORK_CONCURRENCY;
    this.backlog = o.backlog ?? DEFAULT_WORK_BACKLOG;
    this.#onError = o.onError ?? (() => {});
  }

  /** Items waiting to start. */
  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  get running(): number {
    return this.#running;
  }

  /** Whether offer() would take another item now. */
  hasRoom(): boolean {
    return !this.#stopped && this.waiting < this.backlog;
  }

  /** Queues `item`; false (and nothing queued) when the backlog is full or the queue has stopped. */
  offer(item: WorkItem): boolean {
    if (!this.hasRoom()) return false;
    this.#waiting.push(item);
    this.#schedule();
    return true;
  }

  /** Resolves when nothing is waiting or running. */
  idle(): Promise<void> {
    if (this.waiting === 0 && this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Takes no more items, abandons those that have not started (each is told, see WorkItem.abandon)
   * and waits up to `graceMs` for the running ones.
   */
  async stop(graceMs = 5000): Promise<void> {
    this.#stopped = true;
    const left = this.#waiting.slice(this.#head);
    this.#waiting = [];
    this.#head = 0;
    await Promise.all(left.map((item) => item.abandon().catch(this.#onError)));
    if (this.#running === 0) {
      this.#settle();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((r) => { timer = setTimeout(r, graceMs); })]);
    clearTimeout(timer);
  }

  #schedule(): void {
    if (this.#scheduled || this.#running >= this.concurrency || this.waiting === 0) return;
    this.#scheduled = true;
    setImmediate(() => this.#startOne());
  }

  #startOne(): void {
    this.#scheduled = false;
    if (this.#running >= this.concurrency || this.waiting === 0) return;
    const item = this.#waiting[this.#head]!;
    this.#waiting[this.#head++] = undefined as unknown as WorkItem;
    // Compact now and then so a long-lived queue does not keep a long array of holes.
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
    this.#running++;
    let work: Promise<void>;
    try {
      work = item.run();
    } catch (err) {
      work = Promise.reject(err);
    }
    work.catch(this.#onError).finally(() => {
      this.#running--;
      this.#settle();
      this.#schedule();
    });
    this.#schedule();
  }

  #settle(): void {
    if (this.waiting !== 0 || this.#running !== 0) return;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
