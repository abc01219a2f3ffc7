/**
 * The contract between the alerts pipeline (src/alerts/, webhook → one Slack thread per alert
 * group) and the backup window, re-exported so the window's modules import it from one place.
 */
export type { AlertHooks, AlertThreads, CrashAlertEvent } from '../alerts/hooks.ts';
