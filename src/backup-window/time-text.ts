/** Window times as people read them in Slack: "02:00–03:30 UTC", "Sun 22 Nov 15:00 NZDT – 16:30 NZDT". */
import { DateTime } from 'luxon';
import { formatInZone } from '../window/index.ts';

function splitTime(formatted: string): { clock: string; zone: string } {
  const space = formatted.indexOf(' ');
  return { clock: formatted.slice(0, space), zone: formatted.slice(space + 1) };
}

/** "02:00–03:30 UTC"; both abbreviations when a DST change falls inside ("02:00 NZST–03:30 NZDT"). */
export function windowRange(i: { start: Date; end: Date }, zone: string): string {
  const a = splitTime(formatInZone(i.start, zone));
  const b = splitTime(formatInZone(i.end, zone));
  return a.zone === b.zone ? `${a.clock}–${b.clock} ${a.zone}` : `${a.clock} ${a.zone}–${b.clock} ${b.zone}`;
}

/** "03:30 UTC". */
export function clockIn(d: Date, zone: string): string {
  return formatInZone(d, zone);
}

function sameLocalDay(a: Date, b: Date, zone: string): boolean {
  const x = DateTime.fromJSDate(a, { zone });
  const y = DateTime.fromJSDate(b, { zone });
  return x.hasSame(y, 'day');
}

/** "Sun 22 Nov 02:00 UTC – 03:30 UTC", or with both dates when it crosses midnight in `zone`. */
export function datedRange(start: Date, end: Date, zone: string): string {
  return `${formatInZone(start, zone, 'date')} – ${formatInZone(end, zone, sameLocalDay(start, end, zone) ? 'time' : 'date')}`;
}

/** "02:14 UTC" today, "Sat 21 Nov 02:14 UTC" on another day than `now` in `zone`. */
export function whenIn(d: Date, zone: string, now: Date): string {
  return formatInZone(d, zone, sameLocalDay(d, now, zone) ? 'time' : 'date');
}
