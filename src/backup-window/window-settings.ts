/**
 * A configured window as the runtime uses it: the `windows[]` entry plus the alert names its mute
 * silence covers, and a short hash of everything that shapes the silence. The hash is part of the
 * silence's marker, so a restart after a configuration change finds the old silence "not ours any
 * more" and replaces it instead of keeping a silence for the wrong pods or times.
 */
import { createHash } from 'node:crypto';
import type { WindowConfig } from '../config.ts';
import { DEFAULT_TRANSIENT_NAMESPACES } from '../config.ts';

/** The crash-loop alerts a mute window silences when `alertNames` is not configured. */
export const DEFAULT_CRASH_ALERT_NAMES: readonly string[] = ['KubePodCrashLooping', 'HomelabPodCrashLooping', 'PodCrashLooping'];

export interface WindowSettings extends Omit<WindowConfig, 'alertNames'> {
  /** Alert names the mute silence matches (alertname=~"A|B"). */
  alertNames: readonly string[];
}

/**
 * Windows from the configuration; `alertNames` from the window, else the caller's, else the default;
 * `namespaces` never empty (the schema refuses an empty list; a window built in code gets kube-system).
 */
export function windowSettings(windows: readonly WindowConfig[], alertNames?: readonly string[]): WindowSettings[] {
  return windows.map((w) => {
    const own = w.alertNames;
    return {
      ...w,
      namespaces: w.namespaces.length > 0 ? w.namespaces : DEFAULT_TRANSIENT_NAMESPACES,
      alertNames: own && own.length > 0 ? own : alertNames && alertNames.length > 0 ? alertNames : DEFAULT_CRASH_ALERT_NAMES,
    };
  });
}

/** 12 hex characters that change whenever the window's timing, mode, pods, namespaces or alert names change. */
export function configHash(w: WindowSettings): string {
  const shape = {
    name: w.name,
    zone: w.zone,
    days: [...w.days],
    start: w.start,
    end: w.end,
    graceMinutes: w.graceMinutes,
    mode: w.mode,
    transientPods: [...w.transientPods],
    namespaces: [...w.namespaces],
    alertNames: [...w.alertNames],
  };
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 12);
}
