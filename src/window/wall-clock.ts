/**
 * Turning a wall-clock reading ("2026-09-27 02:30 in Pacific/Auckland") into an instant.
 *
 * THE RULE (one rule for every day, DST or not): a window edge configured as local date D, time
 * HH:MM is **the first instant at which the zone's clock reads D HH:MM or later**.
 *
 * - Ordinary days: exactly D HH:MM local.
 * - Skipped local time (spring forward; the reading never happens): the first instant after the
 *   gap. NZ, 2026-09-27, 02:00 NZST → 03:00 NZDT: a start of 02:00 or 02:30 opens at 03:00 NZDT
 *   (2026-09-27T14:00:00Z). This is a clamp to the end of the gap, not luxon's default, which
 *   would shift 02:30 by the gap's length to 03:30. The clamp matches cronie, which runs jobs of
 *   the skipped hour as soon as the clock has jumped.
 * - Repeated local time (fall back; the reading happens twice): the first occurrence, i.e. the
 *   earlier offset. NZ, 2026-04-05, 03:00 NZDT → 02:00 NZST: 02:30 is 02:30 NZDT
 *   (2026-04-04T13:30:00Z), not 02:30 NZST an hour later.
 *
 * Consequences for a window (its end is computed by the same rule): on those days its real
 * duration can be shorter (spring forward) or longer (fall back) than configured, by up to the
 * size of the shift (an hour in NZ); e.g. 02:00–03:30 Pacific/Auckland lasts 30 minutes on
 * 2026-09-27 and 2 h 30 min on 2026-04-05. The rule never moves a later reading before an earlier
 * one, so an instance never ends before it starts; when both edges fall inside the same gap the
 * window covers no real time that day and there is no instance on that day.
 */
import type { IANAZone } from 'luxon';

export interface WallClock { year: number; month: number; day: number; hour: number; minute: number }

const DAY_MS = 86_400_000;

/** The zone's clock reading at `t`, expressed as if it were a UTC timestamp. */
function reading(zone: IANAZone, t: number): number {
  return t + zone.offset(t) * 60_000;
}

/** The first instant (epoch ms) at which `zone`'s clock reads `local` or later. */
export function wallClockToInstant(zone: IANAZone, local: WallClock): number {
  const wanted = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
  // Any instant that reads `wanted` lies within ±14 h of it (the largest UTC offsets), so the
  // offsets a day either side cover every transition near it: tz rules never change twice in two days.
  const offsets = new Set([zone.offset(wanted - DAY_MS), zone.offset(wanted), zone.offset(wanted + DAY_MS)]);
  const candidates = [...offsets].map((offset) => wanted - offset * 60_000);
  const exact = candidates.filter((t) => reading(zone, t) === wanted);
  if (exact.length > 0) return Math.min(...exact);

  // In a gap: the clock jumps from below `wanted` to above it at the transition; find that instant.
  let before = Math.min(...candidates);
  let after = Math.max(...candidates);
  if (!(reading(zone, before) < wanted && reading(zone, after) > wanted)) {
    throw new Error(`cannot place ${JSON.stringify(local)} in ${zone.name}: unexpected time-zone rules`);
  }
  while (after - before > 1) {
    const mid = Math.floor((before + after) / 2);
    if (reading(zone, mid) >= wanted) after = mid;
    else before = mid;
  }
  return after;
}
