/**
 * node-cron 4 expressions for a window's edges: `cron.schedule(expression, fn, { timezone })`.
 *
 * A wake-up hint, not the truth. node-cron matches the wall clock of `timezone` and, at DST
 * changes (checked against node-cron 4.6):
 * - skips a time that falls in a spring-forward gap for that day (our window opens at the end of
 *   the gap, so no tick fires at that instant);
 * - fires a repeated (fall-back) time once, at its second occurrence, while our window opens at
 *   the first — an hour earlier in NZ;
 * - with its default `missedExecutionTolerance` of 1 s, a tick that comes later than that
 *   (blocked event loop, suspended VM) is reported as `execution:missed` and not run.
 * So a tick's handler must reconcile with currentOrNext(window, now) rather than assume "the
 * window opened just now", and the exact edges come from nextInstance()/nextChangeAt().
 */
import { parseWindow, WEEKDAYS } from './window-times.ts';
import type { ClockTime, Weekday, WindowTimes } from './window-times.ts';

/** node-cron day-of-week numbers: 0 = Sunday … 6 = Saturday. */
const CRON_DAY: Record<Weekday, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

function dayField(days: Iterable<Weekday>): string {
  const numbers = [...new Set([...days].map((d) => CRON_DAY[d]))].sort((a, b) => a - b);
  return numbers.length === 7 ? '*' : numbers.join(',');
}

function dayAfter(day: Weekday): Weekday {
  return WEEKDAYS[(WEEKDAYS.indexOf(day) + 1) % 7]!;
}

function expression(time: ClockTime, days: Iterable<Weekday>): string {
  return `${time.minute} ${time.hour} * * ${dayField(days)}`;
}

/** The five-field cron expression that ticks at the window's start or end, in the window's zone. */
export function cronFor(w: WindowTimes, edge: 'start' | 'end'): { expression: string; timezone: string } {
  const parsed = parseWindow(w);
  if (edge === 'start') return { expression: expression(parsed.start, parsed.days), timezone: w.zone };
  // A window that ends the next day ends on the day after each configured day.
  const endDays = parsed.endsNextDay ? [...parsed.days].map(dayAfter) : parsed.days;
  return { expression: expression(parsed.end, endDays), timezone: w.zone };
}
