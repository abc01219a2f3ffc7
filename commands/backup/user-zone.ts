/**
 * The time zone of the person asking, as their transport knows it (`Actor.timeZone`: their Slack
 * profile, or the machine's own zone at the terminal); UTC with a note when it is unknown.
 */
import type { Actor, UserZone } from '../../src/command/context.ts';

export type { UserZone } from '../../src/command/context.ts';

export async function userZone(actor: Actor): Promise<UserZone> {
  if (actor.timeZone) return actor.timeZone();
  return { zone: 'UTC', source: 'default', note: 'Slack is not connected, so your time zone is unknown' };
}
