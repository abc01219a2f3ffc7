/**
 * When the backup watch runs: after the watch cache changes (debounced, so a burst of status
 * updates makes one round), on a periodic tick (overdue is a matter of the clock, not of an
 * event), and when this replica becomes the leader. Only the leader runs rounds
 * (services.leadership), one at a time; a wake-up during a round runs one more round after it.
 * What a round does is src/backup/incident-watch.ts; it reads the cache, never lists the API server.
 */
import type { Services } from '../src/command/context.ts';
import type { BackupCache } from '../src/backup/backup-cache.ts';
import type { IncidentStore } from '../src/backup/incident-store.ts';
import { IncidentWatch } from '../src/backup/incident-watch.ts';
import type { IncidentWatchOptions } from '../src/backup/incident-watch.ts';
import type { RoundResult } from '../src/backup/incident-watch.ts';

export interface StartBackupWatchOptions {
  services: Services & { slack: NonNullable<Services['slack']> };
  cache: BackupCache;
  store: IncidentStore;
  /** The repository's locks for an incident's thread (the composition root gives /restic locks' answer). */
  lockEvidence?: IncidentWatchOptions['lockEvidence'];
  /** Quiet time after a cache change before a round (default 2 s). */
  debounceMs?: number;
  /** The periodic tick (default 60 s). */
  tickMs?: number;
  now?: () => number;
}

export interface BackupWatch {
  watch: IncidentWatch;
  /** Runs a round now (on the leader) and resolves with it; undefined when not the leader. */
  round(reason?: string): Promise<RoundResult | undefined>;
  /** Resolves when no round is running or waiting. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export function startBackupWatch(o: StartBackupWatchOptions): BackupWatch {
  const { services, cache, store } = o;
  const log = services.log.child({ component: 'backup-watch' });
  const watch = new IncidentWatch({
    config: services.config,
    store,
    poster: services.slack.poster,
    inventory: () => cache.inventory(),
    ...(services.kube ? { kube: services.kube } : {}),
    ...(o.lockEvidence ? { lockEvidence: o.lockEvidence } : {}),
    log,
    ...(o.now ? { now: o.now } : {}),
  });
  const debounceMs = o.debounceMs ?? 2000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<RoundResult | undefined> | undefined;
  let again = false;

  const run = (reason: string): Promise<RoundResult | undefined> => {
    if (stopped || !services.leadership.isLeader()) return Promise.resolve(undefined);
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let result: RoundResult | undefined;
      do {
        again = false;
        try {
          result = await watch.round();
          if (result.opened || result.updated || result.resolved) log.info({ reason, ...result }, 'backup watch round');
        } catch (err) {
          log.warn({ reason, err: (err as Error).message }, 'backup watch round failed; the next change or tick tries again');
        }
      } while (again && !stopped && services.leadership.isLeader());
      return result;
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const wake = (reason: string) => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void run(reason);
    }, debounceMs);
    timer.unref();
  };

  const off = cache.onChange(() => wake('cache changed'));
  const tick = setInterval(() => wake('tick'), o.tickMs ?? 60_000);
  tick.unref();
  services.leadership.onChange((leader) => {
    if (leader) wake('became the leader');
  });
  // The start-up round closes what recovered while the bot was down (once the cache is synced).
  wake('start-up');

  return {
    watch,
    round: (reason = 'requested') => run(reason),
    async idle() {
      while (running || timer) {
        if (running) await running;
        else await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      stopped = true;
      off();
      clearInterval(tick);
      clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
