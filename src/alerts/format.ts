/** Small text helpers for alert messages: times as people read them, ages, one-line excerpts. */
import { formatInZone } from '../window/index.ts';
import { inlineCode, untrustedLine } from '../reply.ts';

/** "02:04 UTC" today, "Tue 02:04 UTC" otherwise. */
export function timeIn(d: Date, zone = 'UTC', now = new Date()): string {
  const sameDay = Math.abs(now.getTime() - d.getTime()) < 20 * 3600_000;
  return formatInZone(d, zone, sameDay ? 'time' : 'weekday');
}

/** 45s, 12m, 3h 4m, 2d 5h. */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

/** Untrusted text for mrkdwn: one line, escaped, at most `max` characters. */
export function oneLine(s: string, max: number): string {
  return untrustedLine(s, max);
}

/** Inline code that cannot be broken out of by a backtick in the value. */
export function code(s: string, max = 200): string {
  return inlineCode(s, max);
}
