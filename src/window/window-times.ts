/**
 * The shape of a backup window's timing and its validation. Every function in src/window/
 * validates its window first, so a bad window fails loudly with the field named instead of
 * silently never opening.
 */
import { IANAZone } from 'luxon';

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** In luxon's order: index + 1 is luxon's `weekday` (1 = Monday … 7 = Sunday). */
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export interface WindowTimes {
  name: string;
  /** IANA zone, e.g. "UTC", "Pacific/Auckland". */
  zone: string;
  /** The days on which the window STARTS (a 22:00–01:00 window on `fri` ends on Saturday). */
  days: readonly Weekday[];
  /** "HH:MM", 24-hour, local to `zone`. */
  start: string;
  /** "HH:MM"; end <= start means the window ends the next day (end == start: a 24-hour window). */
  end: string;
  /** Real-time minutes after the end during which late crashes still count as the window's. */
  graceMinutes?: number;
}

export interface WindowInstance {
  name: string;
  start: Date;
  end: Date;
  /** end + graceMinutes (real minutes); equals `end` when there is no grace. */
  graceEnd: Date;
  /** Stable across restarts: `${name}@${start.toISOString()}`, e.g. "pbs@2026-03-10T02:00:00.000Z". */
  id: string;
}

export type WindowField = 'name' | 'zone' | 'days' | 'start' | 'end' | 'graceMinutes' | 'transientPods';

/** A window that cannot be used; `field` is the key in the window's configuration. */
export class WindowConfigError extends Error {
  override name = 'WindowConfigError';
  readonly field: WindowField;
  constructor(field: WindowField, message: string) {
    super(message);
    this.field = field;
  }
}

export interface ClockTime { hour: number; minute: number }

/** A validated window, with its times parsed. */
export interface ParsedWindow {
  name: string;
  zone: IANAZone;
  days: ReadonlySet<Weekday>;
  start: ClockTime;
  end: ClockTime;
  /** true when the end falls on the day after the start. */
  endsNextDay: boolean;
  graceMs: number;
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const MAX_GRACE_MINUTES = 720;

function label(name: unknown): string {
  return typeof name === 'string' && name !== '' ? `window "${name}"` : 'window';
}

function parseClock(w: WindowTimes, field: 'start' | 'end'): ClockTime {
  const value: unknown = w[field];
  const match = typeof value === 'string' ? HHMM.exec(value) : null;
  if (!match) {
    // An unquoted 02:00 can reach us as a number from a YAML 1.1 parser, hence the hint to quote it.
    throw new WindowConfigError(field, `${label(w.name)}: ${field} must be a quoted 24-hour time "HH:MM" such as "02:00"; got ${JSON.stringify(value)}`);
  }
  return { hour: Number(match[1]), minute: Number(match[2]) };
}

/** Checks a window and returns it parsed; throws WindowConfigError naming the bad field. */
export function parseWindow(w: WindowTimes): ParsedWindow {
  if (typeof w.name !== 'string' || !/^[^\s@]+$/.test(w.name)) {
    throw new WindowConfigError('name', `${label(w.name)}: name must be a non-empty word without spaces or "@" (it is part of the window's id), such as "pbs"; got ${JSON.stringify(w.name)}`);
  }
  if (typeof w.zone !== 'string' || !IANAZone.isValidZone(w.zone)) {
    throw new WindowConfigError('zone', `${label(w.name)}: zone must be an IANA time zone such as "UTC" or "Pacific/Auckland"; got ${JSON.stringify(w.zone)}`);
  }
  if (!Array.isArray(w.days) || w.days.length === 0) {
    throw new WindowConfigError('days', `${label(w.name)}: days must list at least one of ${WEEKDAYS.join(', ')} (the days the window starts on)`);
  }
  for (const day of w.days) {
    if (!WEEKDAYS.includes(day)) {
      throw new WindowConfigError('days', `${label(w.name)}: days has ${JSON.stringify(day)}; use the lowercase three-letter names ${WEEKDAYS.join(', ')}`);
    }
  }
  const start = parseClock(w, 'start');
  const end = parseClock(w, 'end');
  const grace = w.graceMinutes ?? 0;
  if (!Number.isInteger(grace) || grace < 0 || grace > MAX_GRACE_MINUTES) {
    throw new WindowConfigError('graceMinutes', `${label(w.name)}: graceMinutes must be a whole number of minutes from 0 to ${MAX_GRACE_MINUTES}; got ${JSON.stringify(w.graceMinutes)}`);
  }
  const startMinutes = start.hour * 60 + start.minute;
  const endMinutes = end.hour * 60 + end.minute;
  return {
    name: w.name,
    zone: IANAZone.create(w.zone),
    days: new Set(w.days),
    start,
    end,
    endsNextDay: endMinutes <= startMinutes,
    graceMs: grace * 60_000,
  };
}
