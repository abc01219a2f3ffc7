/**
 * Work a command goes on with after its reply (following a sync or a VolSync unlock), so the bot's
 * stop() can end it. One instance per bot, created by startBot and handed to the command families.
 */
export class BackgroundWork {
  #running = new Set<AbortController>();

  /** Runs `work` detached; its signal aborts when the bot stops. Failures are the work's own business. */
  start(work: (signal: AbortSignal) => Promise<void>): void {
    const abort = new AbortController();
    this.#running.add(abort);
    void work(abort.signal).finally(() => this.#running.delete(abort));
  }

  get size(): number {
    return this.#running.size;
  }

  stop(): void {
    for (const c of this.#running) c.abort();
    this.#running.clear();
  }
}
