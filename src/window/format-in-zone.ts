/**
 * Instants as people in Slack read them: "02:00 UTC", "Tue 15:00 NZDT".
 */
import { DateTime, IANAZone } from 'luxon';

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
