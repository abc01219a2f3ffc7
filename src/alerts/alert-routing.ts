/**
 * Which channel an alert group's thread goes to: the first alerts.routes entry whose labels all
 * equal the group's, else alerts.channel.
 */
import type { Config } from '../config.ts';
import type { GroupBatch } from './notification-queue.ts';

export type AlertRoute = Config['alerts']['routes'][number];

export function channelFor(labels: Record<string, string>, routes: readonly AlertRoute[], fallback: string | undefined): string | undefined {
  for (const r of routes) {
    if (Object.entries(r.match).every(([k, v]) => labels[k] === v)) return r.channel;
  }
  return fallback;
}

/** The labels every alert of the group shares (group labels are among them). */
export function groupLabelsOf(b: Pick<GroupBatch, 'commonLabels' | 'groupLabels'>): Record<string, string> {
  return { ...b.commonLabels, ...b.groupLabels };
}
