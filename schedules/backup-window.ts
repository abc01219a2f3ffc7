/**
 * When the backup window runs: node-cron ticks at every window's start and end in the window's own
 * zone, a timer for the exact next change (start, end or grace end), a safety tick every five
 * minutes, and a leadership change. Each is only a wake-up: what to do is worked out from the
 * clock by BackupWindowService.reconcile(), because node-cron skips a tick that falls in a DST gap,
 * fires a repeated local time at its second occurrence, and drops a tick that comes late.
 */
import cron from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Services } from '../src/command/context.ts';
import { cronFor } from '../src/window/index.ts';
import type { WindowTimes } from '../src/window/index.ts';
import { BackupWindowService } from '../src/backup-window/service.ts';
import type { BackupWindowServiceOptions } from '../src/backup-window/service.ts';
import type { AlertHooks } from '../src/backup-window/alert-hooks.ts';

/** setTimeout's ceiling (~24.8 days); a longer wait is re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Node may fire a timer a millisecond before Date.now() reaches the due instant. */
const TIMER_SLACK_MS = 5;
export const SAFETY_TICK = '*/5 * * * *';

export interface WindowTicksOptions {
  windows: readonly WindowTimes[];
  /** Called on every wake-up; the caller reconciles and then calls rearm(). */
  wake: (reason: string) => void;
  /** The next instant worth waking at, strictly after `now`. */
  nextWakeAt: (now: Date) => Date | undefined;
  now?: () => Date;
  log?: Logger;
  /** Cron expression of the safety tick (UTC); false for none. */
  safetyTick?: string | false;
}

export interface WindowTicks {
  /** Re-arms the timer for nextWakeAt(now()); call after each reconcile. */
  rearm(): void;
  /** When the timer fires next (a few ms after the change it wakes for); for logs and tests. */
  nextTimerAt(): Date | undefined;
  stop(): void;
}

function cronLogger(log: Logger | undefined) {
  return {
    info: (m: string) => log?.debug({ cron: m }, 'node-cron'),
    warn: (m: string) => log?.debug({ cron: m }, 'node-cron'),
    error: (m: string | Error) => log?.warn({ cron: String(m) }, 'node-cron'),
    debug: (m: string | Error) => log?.trace({ cron: String(m) }, 'node-cron'),
  };
}

export function scheduleWindowTicks(opts: WindowTicksOptions): WindowTicks {
  const now = opts.now ?? (() => new Date());
  const tasks: ScheduledTask[] = [];
  const logger = cronLogger(opts.log);
  for (const w of opts.windows) {
    for (const edge of ['start', 'end'] as const) {
      const { expression, timezone } = cronFor(w, edge);
      tasks.push(cron.schedule(expression, () => opts.wake(`${w.name} ${edge} tick`), { timezone, name: `backup-window-${w.name}-${edge}`, logger, unref: true }));
    }
  }
  if (opts.safetyTick !== false) {
    tasks.push(cron.schedule(opts.safetyTick ?? SAFETY_TICK, () => opts.wake('safety tick'), { timezone: 'UTC', name: 'backup-window-safety', logger, unref: true }));
  }

  let timer: NodeJS.Timeout | undefined;
  let timerAt: Date | undefined;
  let stopped = false;
  const rearm = () => {
    if (stopped) return;
    clearTimeout(timer);
    timer = undefined;
    const t = now();
    const next = opts.nextWakeAt(t);
    timerAt = undefined;
    if (!next) return;
    const delay = Math.max(0, next.getTime() - t.getTime()) + TIMER_SLACK_MS;
    timerAt = new Date(t.getTime() + Math.min(delay, MAX_TIMER_MS));
    timer = setTimeout(() => {
      timer = undefined;
      if (delay > MAX_TIMER_MS) rearm();
      else opts.wake('next window change');
    }, Math.min(delay, MAX_TIMER_MS));
    timer.unref?.();
  };
  return {
    rearm,
    nextTimerAt: () => timerAt,
    stop() {
      stopped = true;
      clearTimeout(timer);
      for (const t of tasks) void t.destroy();
    },
  };
}

export interface StartBackupWindowsOptions extends Omit<BackupWindowServiceOptions, 'services'> {
  services: Services;
  /** Cron expression of the safety tick, or false (tests that count wake-ups). */
  safetyTick?: string | false;
}

export interface BackupWindows {
  /** Hand these to the alerts pipeline. */
  hooks: AlertHooks;
  service: BackupWindowService;
  /** Resolves after the start-up reconcile (which acts as if an open window had just opened). */
  ready: Promise<void>;
  /** Runs one reconcile now (and re-arms the timer). */
  reconcile(reason?: string): Promise<void>;
  ticks: WindowTicks;
  stop(): Promise<void>;
}

/** Starts the window runtime: the service, its ticks, and the start-up reconcile. */
export function startBackupWindows(opts: StartBackupWindowsOptions): BackupWindows {
  const { services, safetyTick, ...rest } = opts;
  const service = new BackupWindowService({ services, ...rest });
  let stopped = false;
  let ticks: WindowTicks | undefined;
  const reconcile = async (reason = 'requested') => {
    await service.reconcile(reason);
    if (!stopped) ticks?.rearm();
  };
  ticks = scheduleWindowTicks({
    windows: service.windows,
    wake: (reason) => void reconcile(reason),
    nextWakeAt: (t) => service.nextWakeAt(t),
    now: service.now,
    log: services.log,
    safetyTick,
  });
  services.leadership.onChange((leader) => {
    if (leader && !stopped) void reconcile('became the leader');
  });
  const ready = reconcile('start-up');
  return {
    hooks: service.hooks,
    service,
    ready,
    reconcile,
    ticks,
    async stop() {
      stopped = true;
      ticks?.stop();
      await service.idle();
      await service.flush();
    },
  };
}
