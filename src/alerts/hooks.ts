/**
 * The seam between alert threads and the backup-window scheduler (schedules/backup-window.ts):
 * the scheduler annotates crash-loop alerts before their diagnosis is posted, hears about every
 * crash-loop notification for its window bookkeeping, and posts its own summaries into the
 * threads. Kept stable: the scheduler is built against these types.
 */
import type { Block, Reply } from '../reply.ts';

export interface CrashAlertEvent {
  /** Alertmanager's groupKey (one Slack thread per group), or `slack:<channel>:<ts>` for an alert another integration posted (channel-watch). */
  groupKey: string;
  channel: string;
  /** The thread's parent message. */
  threadTs: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  fingerprint: string;
  receivedAt: Date;
}

export interface AlertHooks {
  /** Before a crash-loop alert's diagnosis is posted: blocks to put first (e.g. "known transient during the pbs window"). */
  annotate?(e: CrashAlertEvent): Promise<Block[] | undefined>;
  /** After every crash-loop alert notification was posted (for window bookkeeping). */
  observed?(e: CrashAlertEvent): void;
}

export interface AlertThreads {
  /** Posts into a thread through the same per-channel paced queue as the alerts themselves. */
  postInThread(channel: string, threadTs: string, r: Reply): Promise<void>;
}
