/**
 * When a VolSync schedule fires. node-cron 4 parses the expression (its `parse` expands every
 * field, nicknames such as @hourly included) but only computes runs forward from "now"; we need
 * them from any instant (the last sync) and backwards too, so the walk over the expanded fields is
 * here. Semantics follow VolSync's parser (robfig/cron, standard five fields, evaluated in UTC):
 * when both day-of-month and day-of-week are restricted a day matching either one fires.
 */
import cron from 'node-cron';

export interface CronSchedule {
  expression: string;
  /** First firing strictly after `t` (ms), or undefined when it never fires within five years. */
  next(t: number): number | undefined;
  /** Last firing strictly before `t`. */
  prev(t: number): number | undefined;
}

const DAY = 86_400_000;
const HORIZON_DAYS = 366 * 5;

interface Fields {
  minutes: number[];
  hours: number[];
  months: Set<number>;
  dom: Array<number | string>;
  dow: Array<number | string>;
  domStar: boolean;
  dowStar: boolean;
}

const cache = new Map<string, CronSchedule | null>();

function isStar(field: string | undefined): boolean {
  return field === undefined || field.startsWith('*') || field.startsWith('?');
}

function lastDayOfMonth(y: number, m0: number): number {
  return new Date(Date.UTC(y, m0 + 1, 0)).getUTCDate();
}

function matchesDom(entries: Array<number | string>, d: Date): boolean {
  const day = d.getUTCDate();
  for (const e of entries) {
    if (e === day) return true;
    if (e === 'L' && day === lastDayOfMonth(d.getUTCFullYear(), d.getUTCMonth())) return true;
  }
  return false;
}

function matchesDow(entries: Array<number | string>, d: Date): boolean {
  const wd = d.getUTCDay();
  for (const e of entries) {
    if (e === wd) return true;
    if (typeof e === 'string') {
      const nth = /^(\d)#(\d)$/.exec(e);
      if (nth && Number(nth[1]) % 7 === wd && Math.ceil(d.getUTCDate() / 7) === Number(nth[2])) return true;
      const last = /^(\d)L$/.exec(e);
      if (last && Number(last[1]) % 7 === wd && d.getUTCDate() + 7 > lastDayOfMonth(d.getUTCFullYear(), d.getUTCMonth())) return true;
    }
  }
  return false;
}

function dayMatches(f: Fields, d: Date): boolean {
  if (!f.months.has(d.getUTCMonth() + 1)) return false;
  const dom = matchesDom(f.dom, d);
  const dow = matchesDow(f.dow, d);
  if (f.domStar || f.dowStar) return dom && dow;
  return dom || dow;
}

function build(expression: string): CronSchedule | null {
  let parsed: ReturnType<typeof cron.parse>;
  try {
    parsed = cron.parse(expression.trim());
  } catch {
    return null;
  }
  const raw = expression.trim().split(/\s+/);
  // With six fields the first is seconds; VolSync uses five.
  const offset = raw.length === 6 ? 1 : 0;
  const nickname = raw.length === 1 && raw[0]!.startsWith('@');
  const f: Fields = {
    minutes: [...parsed.minute].sort((a, b) => a - b),
    hours: [...parsed.hour].sort((a, b) => a - b),
    months: new Set(parsed.month),
    dom: parsed.dayOfMonth,
    dow: parsed.dayOfWeek,
    domStar: nickname ? !/^@(monthly|yearly|annually)$/.test(raw[0]!) : isStar(raw[offset + 2]),
    dowStar: nickname ? !/^@weekly$/.test(raw[0]!) : isStar(raw[offset + 4]),
  };
  if (!f.minutes.length || !f.hours.length) return null;
  const startOfDay = (t: number) => Math.floor(t / DAY) * DAY;
  return {
    expression,
    next(t) {
      let day = startOfDay(t);
      for (let i = 0; i <= HORIZON_DAYS; i++, day += DAY) {
        if (!dayMatches(f, new Date(day))) continue;
        for (const h of f.hours) {
          for (const m of f.minutes) {
            const at = day + h * 3_600_000 + m * 60_000;
            if (at > t) return at;
          }
        }
      }
      return undefined;
    },
    prev(t) {
      let day = startOfDay(t);
      for (let i = 0; i <= HORIZON_DAYS; i++, day -= DAY) {
        if (!dayMatches(f, new Date(day))) continue;
        for (let hi = f.hours.length - 1; hi >= 0; hi--) {
          for (let mi = f.minutes.length - 1; mi >= 0; mi--) {
            const at = day + f.hours[hi]! * 3_600_000 + f.minutes[mi]! * 60_000;
            if (at < t) return at;
          }
        }
      }
      return undefined;
    },
  };
}

/** The schedule for a cron expression, or undefined when node-cron cannot parse it. Cached. */
export function cronSchedule(expression: string): CronSchedule | undefined {
  let s = cache.get(expression);
  if (s === undefined) {
    s = build(expression);
    if (cache.size > 1000) cache.clear();
    cache.set(expression, s);
  }
  return s ?? undefined;
}
