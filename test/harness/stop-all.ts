/**
 * The end of a test file: what its before() started, stopped in the order given (the bot before
 * the Slack stand-in it talks to, fixtures before the API server they live on). Each part is
 * awaited before the next; a part that was never started (before() failed early) is passed over.
 */

/** A process, server, proxy or set of fixtures a test started, or a plain teardown step. */
export type Stoppable =
  | { stop(): unknown }
  | { close(): unknown }
  | { cleanup(): unknown }
  | { down(): unknown }
  | (() => unknown)
  | undefined
  | null;

/** Stops each part in order: `stop()`, `close()`, `cleanup()` or `down()`, or calls it when it is a function. */
export async function stopAll(...parts: Stoppable[]): Promise<void> {
  for (const part of parts) {
    if (!part) continue;
    if (typeof part === 'function') await part();
    else if ('stop' in part) await part.stop();
    else if ('close' in part) await part.close();
    else if ('cleanup' in part) await part.cleanup();
    else await part.down();
  }
}
