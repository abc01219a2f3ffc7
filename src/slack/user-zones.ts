/**
 * The time zone of a Slack user: users.info `user.tz`, remembered for a day (people rarely move,
 * and every /backup window would otherwise cost a Web API call). One per Slack transport.
 */
import { IANAZone } from 'luxon';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { UserZone } from '../command/context.ts';

const TTL_MS = 24 * 3600_000;

export class SlackUserZones {
  #cache = new Map<string, { zone: string; at: number }>();
  #client: Pick<WebClient, 'users'>;
  #log: Logger;
  #now: () => Date;

  constructor(client: Pick<WebClient, 'users'>, log: Logger, now: () => Date = () => new Date()) {
    this.#client = client;
    this.#log = log;
    this.#now = now;
  }

  async of(user: string, at: Date = this.#now()): Promise<UserZone> {
    const now = at.getTime();
    const hit = this.#cache.get(user);
    if (hit && now - hit.at >= 0 && now - hit.at < TTL_MS) return { zone: hit.zone, source: 'your Slack profile' };
    try {
      const res = await this.#client.users.info({ user });
      const tz = res.user?.tz;
      if (tz && IANAZone.isValidZone(tz)) {
        this.#cache.set(user, { zone: tz, at: now });
        return { zone: tz, source: 'your Slack profile' };
      }
      return { zone: 'UTC', source: 'default', note: 'your Slack profile has no time zone' };
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'users.info failed; showing times in UTC only');
      return { zone: 'UTC', source: 'default', note: 'Slack did not tell me your time zone (users.info failed; the bot needs the users:read scope)' };
    }
  }
}
