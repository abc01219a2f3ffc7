/**
 * Following a source after the bot set a trigger: poll until it shows the result asked for, a new
 * mover failure, the deadline, or the abort signal (the bot stops). The API server may restart
 * meanwhile: read errors back off and keep following until the deadline.
 */
import type { Kube } from '../kube/client.ts';
import { condition } from '../backup/objects.ts';
import { escapeMrkdwn } from '../reply.ts';
import type { ReplicationSource } from './source.ts';
import { readSource } from './source.ts';

export interface FollowOptions {
  /** Give up following after this long (VolSync goes on). */
  timeoutMs: number;
  /** First poll interval. */
  pollMs: number;
  /** Grow the interval (×1.5, up to 6× pollMs) while nothing changes; default a fixed interval. */
  backoff?: boolean;
  /** A `Synchronizing` condition with reason Error ends the follow as failed. */
  syncErrors?: boolean;
}

export type FollowOutcome =
  | { outcome: 'done'; rs: ReplicationSource }
  | { outcome: 'failed'; rs: ReplicationSource; reason: string; logs?: string }
  | { outcome: 'timeout'; rs?: ReplicationSource }
  | { outcome: 'gone' };

/** Waits `ms`, or less when the signal aborts (so a stopping bot does not wait for a poll). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export async function followSource(
  kube: Kube,
  namespace: string,
  name: string,
  before: ReplicationSource,
  reached: (rs: ReplicationSource) => boolean,
  opts: FollowOptions,
  signal?: AbortSignal,
): Promise<FollowOutcome> {
  const deadline = Date.now() + opts.timeoutMs;
  const previous = before.status?.latestMoverStatus;
  const max = opts.pollMs * 6;
  let interval = opts.pollMs;
  let last: ReplicationSource | undefined;
  while (Date.now() < deadline && !signal?.aborted) {
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), signal);
    if (signal?.aborted) break;
    let rs: ReplicationSource | undefined;
    try {
      rs = await readSource(kube, namespace, name);
    } catch {
      if (opts.backoff) interval = Math.min(interval * 2, max);
      continue;
    }
    if (!rs) return { outcome: 'gone' };
    last = rs;
    if (reached(rs)) return { outcome: 'done', rs };
    const mover = rs.status?.latestMoverStatus;
    if (mover?.result === 'Failed' && (previous?.result !== 'Failed' || previous.logs !== mover.logs)) {
      return { outcome: 'failed', rs, reason: 'the mover reported *Failed*', ...(mover.logs ? { logs: mover.logs } : {}) };
    }
    if (opts.syncErrors) {
      const sync = condition(rs.status?.conditions, 'Synchronizing');
      if (sync?.reason === 'Error') return { outcome: 'failed', rs, reason: `VolSync reports an error: ${escapeMrkdwn(sync.message ?? 'no message')}` };
    }
    if (opts.backoff) interval = Math.min(Math.round(interval * 1.5), max);
  }
  return { outcome: 'timeout', ...(last ? { rs: last } : {}) };
}
