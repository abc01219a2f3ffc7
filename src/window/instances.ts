/**
 * Backup-window instances: which one is open at an instant, which comes next, which closed last.
 * Pure: the instant is always a parameter, never read from the clock.
 *
 * An instance belongs to the local date it starts on (a configured day) and covers
 * [start, end): open at its start, closed at its end. Its edges follow the wall-clock rule in
 * wall-clock.ts (skipped local time → the first instant after the gap; repeated local time →
 * the first occurrence), so on DST-change days it can be up to an hour shorter or longer.
 */
import { DateTime } from 'luxon';
import { wallClockToInstant } from './wall-clock.ts';
import { parseWindow, WEEKDAYS } from './window-times.ts';
import type { ParsedWindow, WindowInstance, WindowTimes } from './window-times.ts';

/** Enough to pass every configured weekday twice, even when a DST gap swallows one instance. */
const SEARCH_DAYS = 15;

/** A calendar date, as a luxon DateTime at midnight UTC (only its year/month/day are used). */
type LocalDate = DateTime;

function localDateOf(w: ParsedWindow, at: Date): LocalDate {
  const local = DateTime.fromMillis(at.getTime(), { zone: w.zone });
  return DateTime.utc(local.year, local.month, local.day);
}

/** The instance that starts on `date`, if that date is a configured day and the window covers real time. */
function instanceOn(w: ParsedWindow, date: LocalDate): WindowInstance | undefined {
  if (!w.days.has(WEEKDAYS[date.weekday - 1]!)) return undefined;
  const start = wallClockToInstant(w.zone, { year: date.year, month: date.month, day: date.day, ...w.start });
  const endDate = w.endsNextDay ? date.plus({ days: 1 }) : date;
  const end = wallClockToInstant(w.zone, { year: endDate.year, month: endDate.month, day: endDate.day, ...w.end });
  if (end <= start) return undefined; // both edges inside one DST gap: the window covers no real time that day
  const startDate = new Date(start);
  return {
    name: w.name,
    start: startDate,
    end: new Date(end),
    graceEnd: new Date(end + w.graceMs),
    id: `${w.name}@${startDate.toISOString()}`,
  };
}

function requireDate(at: Date, param: string): void {
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
    throw new TypeError(`${param} must be a valid Date; got ${String(at)}`);
  }
}

function openAt(w: ParsedWindow, at: Date): WindowInstance | undefined {
  const today = localDateOf(w, at);
  // An open instance started today or yesterday (a window is at most 24 local hours); the
  // extra day either side covers DST gaps at midnight. Latest start first.
  for (let offset = 1; offset >= -2; offset--) {
    const instance = instanceOn(w, today.plus({ days: offset }));
    if (instance && instance.start <= at && at < instance.end) return instance;
  }
  return undefined;
}

function firstStartingAfter(w: ParsedWindow, after: Date): WindowInstance {
  const today = localDateOf(w, after);
  // Starts increase with the date, so the first match is the earliest.
  for (let offset = -1; offset <= SEARCH_DAYS; offset++) {
    const instance = instanceOn(w, today.plus({ days: offset }));
    if (instance && instance.start > after) return instance;
  }
  throw new Error(`window "${w.name}" has no instance in the ${SEARCH_DAYS} days after ${after.toISOString()}`);
}

/** The instance open at `at` (start <= at < end), if any. */
export function instanceAt(w: WindowTimes, at: Date): WindowInstance | undefined {
  requireDate(at, 'at');
  return openAt(parseWindow(w), at);
}

/** The first instance that starts strictly after `after`. */
export function nextInstance(w: WindowTimes, after: Date): WindowInstance {
  requireDate(after, 'after');
  return firstStartingAfter(parseWindow(w), after);
}

/** The open instance at `at`, else the next one to open; what `/backup window` and start-up need. */
export function currentOrNext(w: WindowTimes, at: Date): { open: boolean; instance: WindowInstance } {
  requireDate(at, 'at');
  const parsed = parseWindow(w);
  const open = openAt(parsed, at);
  return open ? { open: true, instance: open } : { open: false, instance: firstStartingAfter(parsed, at) };
}

/** The most recent instance that has ended (end <= at), if one ended in the last two weeks. */
export function lastClosed(w: WindowTimes, at: Date): WindowInstance | undefined {
  requireDate(at, 'at');
  const parsed = parseWindow(w);
  const today = localDateOf(parsed, at);
  // Ends increase with the date, so walking back the first match is the most recent.
  for (let offset = 1; offset >= -SEARCH_DAYS; offset--) {
    const instance = instanceOn(parsed, today.plus({ days: offset }));
    if (instance && instance.end <= at) return instance;
  }
  return undefined;
}

/**
 * The next instant strictly after `after` at which instanceAt() changes its answer: the current
 * instance's end or the next one's start, whichever is first. A scheduler that sleeps until this
 * instant and then reconciles with currentOrNext() opens and closes every window on time, DST
 * days included, and recovers from a missed wake-up on its next one.
 */
export function nextChangeAt(w: WindowTimes, after: Date): Date {
  requireDate(after, 'after');
  const parsed = parseWindow(w);
  const next = firstStartingAfter(parsed, after).start;
  const open = openAt(parsed, after);
  return open && open.end < next ? open.end : next;
}
