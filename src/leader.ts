import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Kube } from './kube/client.ts';
import type { LeaseOptions } from './kube/lease.ts';
import { releaseLease, tryAcquireLease } from './kube/lease.ts';

/**
 * "Am I the leader?" is asked here and nowhere else: schedules, window silences and summaries run
 * only on the leader, so several replicas (or a rolling update) never double-post or
 * double-silence. Without a cluster (the terminal mode) the one process is the leader.
 */
export interface Leadership {
  isLeader(): boolean;
  /** Called with true when this replica becomes leader, false when it stops being one. */
  onChange(listener: (leader: boolean) => void): void;
}

export class SingleReplica implements Leadership {
  isLeader(): boolean {
    return true;
  }
  onChange(listener: (leader: boolean) => void): void {
    queueMicrotask(() => listener(true));
  }
}

/**
 * Leader election with a Lease in the bot's namespace: the holder renews every few seconds; if it
 * dies, another replica takes over once the lease expires. A replica that cannot renew in time
 * steps down before the lease could pass to someone else, so two leaders never overlap by design.
 */
export class LeaseLeadership implements Leadership {
  #opts: LeaseOptions;
  #log: Logger;
  #leaderUntil = 0;
  #listeners: Array<(leader: boolean) => void> = [];
  #timer: NodeJS.Timeout | undefined;
  #was = false;
  #retryMs: number;
  #stopped = false;
  /** The tick in flight, so stop() can wait for it instead of racing it. */
  #ticking: Promise<void> = Promise.resolve();

  constructor(kube: Kube, opts: { namespace: string; identity?: string; name?: string; durationSeconds?: number; retryMs?: number; log: Logger }) {
    this.#opts = {
      kube,
      namespace: opts.namespace,
      name: opts.name ?? 'backup-bot-leader',
      holder: opts.identity ?? `${hostname()}-${randomBytes(3).toString('hex')}`,
      durationSeconds: opts.durationSeconds ?? 15,
    };
    this.#retryMs = opts.retryMs ?? Math.max(500, (this.#opts.durationSeconds * 1000) / 3);
    this.#log = opts.log;
  }

  get identity(): string {
    return this.#opts.holder;
  }

  isLeader(): boolean {
    return Date.now() < this.#leaderUntil;
  }

  onChange(listener: (leader: boolean) => void): void {
    this.#listeners.push(listener);
  }

  start(): void {
    this.#stopped = false;
    const tick = async () => {
      const started = Date.now();
      try {
        const r = await tryAcquireLease(this.#opts);
        // Step down a little before the lease itself would expire, measured from before the request.
        // A tick that was in flight when stop() was called must not make a stopped replica leader again.
        this.#leaderUntil = r.acquired && !this.#stopped ? started + this.#opts.durationSeconds * 1000 - this.#retryMs : 0;
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'leader election: could not reach the Lease; will retry');
      }
      if (this.#stopped) return;
      this.#emit();
      this.#timer = setTimeout(() => void (this.#ticking = tick()), this.#retryMs);
      this.#timer.unref?.();
    };
    this.#ticking = tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    // Wait for a tick in flight (bounded: an unreachable API server must not hold up shutdown); if it
    // lands later, #stopped keeps it from re-arming or claiming leadership.
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([this.#ticking, new Promise<void>((r) => (bound = setTimeout(r, this.#retryMs)))]);
    clearTimeout(bound);
    this.#leaderUntil = 0;
    this.#emit();
    // Hand over at once instead of making the next replica wait for expiry (rolling updates).
    await releaseLease(this.#opts).catch(() => false);
  }

  #emit(): void {
    const now = this.isLeader();
    if (now === this.#was) return;
    this.#was = now;
    this.#log.info({ identity: this.#opts.holder, leader: now }, now ? 'became the leader: running schedules' : 'no longer the leader');
    for (const l of this.#listeners) l(now);
  }
}
