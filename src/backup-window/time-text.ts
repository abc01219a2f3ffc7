/** Window times as people read them in Slack; the one implementation is src/text.ts. */
import { formatInZone } from '../text.ts';

export { datedRange, timeRange as windowRange, whenIn } from '../text.ts';

/** "03:30 UTC". */
export function clockIn(d: Date, zone: string): string {
  return formatInZone(d, zone);
}
