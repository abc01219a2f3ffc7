/**
 * The backup window at run time: the facts (which windows cover a pod now, which movers run:
 * facts.ts), state, mute silences, alert annotations, the close summary and `/backup window`.
 * The schedule that wakes it is schedules/backup-window.ts (startBackupWindows).
 */
export { BackupFacts, coveringInstance, isWindowTransient, liveInstances, windowStates } from './facts.ts';
export type { MoverSnapshot, WindowFactsConfig, WindowState } from './facts.ts';
export type { AlertHooks, AlertThreads, CrashAlertEvent } from './alert-hooks.ts';
export { BackupWindowService, defaultWindowSilences, defaultWindowStore } from './service.ts';
export type { BackupWindowServiceOptions, WindowSilences } from './service.ts';
export { ConfigMapWindowStore, WINDOW_STATE_CONFIGMAP } from './configmap-window-store.ts';
export { MemoryWindowStore } from './state.ts';
export type { InstanceState, ObservedAlert, WindowsState, WindowStateStore } from './state.ts';
export { DEFAULT_CRASH_ALERT_NAMES, configHash, windowSettings } from './window-settings.ts';
export type { WindowSettings } from './window-settings.ts';
export { WINDOW_MARKER_PREFIX, parseWindowMarker, windowMarker, windowMatchers } from './window-silence.ts';
export type { SummaryPoster } from './slack-posting.ts';
export { slackAlertThreads, slackSummaryPoster } from './slack-posting.ts';
export type { FiringAlert, FiringAlertsSource } from './firing-alerts.ts';
export { alertmanagerFiringAlerts } from './firing-alerts.ts';
export type { MoverEvidence, MoverSource, RunningMover } from './mover-evidence.ts';
export { kubeMoverSource } from './mover-evidence.ts';
export { VOLSYNC_MOVER_SELECTOR } from '../volsync/mover-pods.ts';
