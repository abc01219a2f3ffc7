/**
 * The time zone of the person asking: Slack's users.info `user.tz` (remembered for a day, since
 * people rarely move and every /backup window would otherwise cost a Web API call), or the
 * machine's own zone at the terminal.
 */
import { IANAZone } from 'luxon';
import type { CommandContext } from '../../src/command/context.ts';

const TTL_MS = 24 * 3600_000;

export interface UserZone {
  zone: string;
  /** Where it came from, for the reply: "your Slack profile", "this machine". */
  source: string;
  /** Why the zone is only a fallback, when it is. */
  note?: string;
}

export function localZone(): string {
  const z = process.env['TZ']?.trim() || Intl.DateTimeFormat().resolvedOptions().timeZone;
  return z && IANAZone.isValidZone(z) ? z : 'UTC';
}

/** Each person's zone, remembered for a day; one per bot (its command set holds it). */
export class UserZones {
  #cache = new Map<string, { zone: string; at: number }>();

  async of(ctx: CommandContext): Promise<UserZone> {
    if (ctx.actor.via === 'terminal') return { zone: localZone(), source: 'this machine' };
    const now = ctx.now().getTime();
    const hit = this.#cache.get(ctx.actor.id);
    if (hit && now - hit.at >= 0 && now - hit.at < TTL_MS) return { zone: hit.zone, source: 'your Slack profile' };
    const client = ctx.services.slack?.client;
    if (!client) return { zone: 'UTC', source: 'default', note: 'Slack is not connected, so your time zone is unknown' };
    try {
      const res = await client.users.info({ user: ctx.actor.id });
      const tz = res.user?.tz;
      if (tz && IANAZone.isValidZone(tz)) {
        this.#cache.set(ctx.actor.id, { zone: tz, at: now });
        return { zone: tz, source: 'your Slack profile' };
      }
      return { zone: 'UTC', source: 'default', note: 'your Slack profile has no time zone' };
    } catch (err) {
      ctx.services.log.warn({ err: (err as Error).message }, 'users.info failed; showing times in UTC only');
      return { zone: 'UTC', source: 'default', note: 'Slack did not tell me your time zone (users.info failed; the bot needs the users:read scope)' };
    }
  }
}
