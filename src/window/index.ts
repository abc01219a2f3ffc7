/**
 * Pure backup-window arithmetic on luxon. No clock reads: every instant is a parameter.
 * The DST rule (skipped local time → first instant after the gap; repeated local time → first
 * occurrence) is documented in wall-clock.ts; cron caveats in cron-for.ts.
 */
export { cronFor } from './cron-for.ts';
export { currentOrNext, instanceAt, lastClosed, nextChangeAt, nextInstance } from './instances.ts';
export { isTransientPod, validateTransientPods } from './transient-pods.ts';
export { WindowConfigError, WEEKDAYS } from './window-times.ts';
export type { Weekday, WindowField, WindowInstance, WindowTimes } from './window-times.ts';
