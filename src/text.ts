/**
 * Words the bot prints, one way each: durations, instants in a zone, truncation and plurals
 * (who did something is `mention()` in src/command/context.ts, since the transport decides how
 * people are named; "no cluster" is `NO_CLUSTER` in src/errors.ts). Every reply that shows one of these uses this module, so a
 * user reads "3h 5m" the same in /backup status, /restic locks and an alert thread.
 */
import { DateTime, IANAZone } from 'luxon';

/**
 * A duration as people read it: "45s", "12m", "3h 5m", "3h", "2d 5h", "7d 21h". The two largest
 * units, the second left out when zero; seconds only below a minute; negative counts as 0s.
 */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

/** Sizes as people read them: "512 B", "1.2 KB", "34 MB" (powers of 1024, as restic prints them). */
export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = Math.max(0, n);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** "5m ago" / "in 12m" relative to now (epoch milliseconds). */
export function relative(at: number, now: number): string {
  return at <= now ? `${duration(now - at)} ago` : `in ${duration(at - now)}`;
}

export type ZoneFormatStyle = 'time' | 'weekday' | 'date';

const PATTERNS: Record<ZoneFormatStyle, string> = {
  time: 'HH:mm',
  weekday: 'ccc HH:mm',
  date: 'ccc d LLL HH:mm',
};

// ICU gives a zone's abbreviation only in locales where it is customary (NZDT in en-NZ, CEST
// in en-GB, EDT in en-US); elsewhere "GMT+13". Try English locales in order, else keep GMT±N.
const ABBREVIATION_LOCALES = ['en-US', 'en-GB', 'en-NZ', 'en-AU', 'en-CA', 'en-IE', 'en-ZA', 'en-IN'];

function abbreviation(local: DateTime): string {
  let fallback = '';
  for (const locale of ABBREVIATION_LOCALES) {
    const name = local.setLocale(locale).offsetNameShort ?? '';
    if (name !== '' && !/^(GMT|UTC)[+-−]/.test(name)) return name;
    fallback ||= name;
  }
  return fallback || local.toFormat('ZZ');
}

/**
 * `d` on the clock of `zone` with the zone's abbreviation: "02:00 UTC" (style "time", the
 * default), "Tue 15:00 NZDT" ("weekday"), "Sun 27 Sep 03:00 NZDT" ("date").
 */
export function formatInZone(d: Date, zone: string, style: ZoneFormatStyle = 'time'): string {
  if (!IANAZone.isValidZone(zone)) {
    throw new RangeError(`zone must be an IANA time zone such as "UTC" or "Pacific/Auckland"; got ${JSON.stringify(zone)}`);
  }
  const local = DateTime.fromMillis(d.getTime(), { zone, locale: 'en-US' });
  if (!local.isValid) throw new TypeError(`cannot format ${String(d)}: not a valid Date`);
  return `${local.toFormat(PATTERNS[style])} ${abbreviation(local)}`;
}

/** "02:04 UTC" within 20 hours of `now`, "Tue 02:04 UTC" otherwise. */
export function timeIn(d: Date, zone = 'UTC', now = new Date()): string {
  const sameDay = Math.abs(now.getTime() - d.getTime()) < 20 * 3600_000;
  return formatInZone(d, zone, sameDay ? 'time' : 'weekday');
}

function sameLocalDay(a: Date, b: Date, zone: string): boolean {
  return DateTime.fromJSDate(a, { zone }).hasSame(DateTime.fromJSDate(b, { zone }), 'day');
}

/** "02:14 UTC" today, "Sat 21 Nov 02:14 UTC" on another day than `now` in `zone`. */
export function whenIn(d: Date, zone: string, now: Date): string {
  return formatInZone(d, zone, sameLocalDay(d, now, zone) ? 'time' : 'date');
}

function splitTime(formatted: string): { clock: string; zone: string } {
  const space = formatted.indexOf(' ');
  return { clock: formatted.slice(0, space), zone: formatted.slice(space + 1) };
}

/** "02:00–03:30 UTC"; both abbreviations when a DST change falls inside ("02:00 NZST–03:30 NZDT"). */
export function timeRange(i: { start: Date; end: Date }, zone: string): string {
  const a = splitTime(formatInZone(i.start, zone));
  const b = splitTime(formatInZone(i.end, zone));
  return a.zone === b.zone ? `${a.clock}–${b.clock} ${a.zone}` : `${a.clock} ${a.zone}–${b.clock} ${b.zone}`;
}

/** "Sun 22 Nov 02:00 UTC – 03:30 UTC", or with both dates when it crosses midnight in `zone`. */
export function datedRange(start: Date, end: Date, zone: string): string {
  return `${formatInZone(start, zone, 'date')} – ${formatInZone(end, zone, sameLocalDay(start, end, zone) ? 'time' : 'date')}`;
}

/** At most `max` characters, an ellipsis marking the cut; outside text on one escaped line (src/reply.ts). */
export { clipText as truncate, untrustedLine as oneLine } from './reply.ts';

/** "1 lock", "3 locks", "2 mover pods". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

