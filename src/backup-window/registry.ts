/**
 * Lets `/backup window` find the running window service of the bot it is called in, without a
 * new member on Services: the command reads the same state, silences and windows the schedule
 * uses. Keyed by the bot's Config object, because transports hand commands their own copy of
 * Services (with `slack` added) while the config inside is the one object per bot.
 */
import type { Services } from '../command/context.ts';
import type { BackupWindowService } from './service.ts';

const byConfig = new WeakMap<Services['config'], BackupWindowService>();

export function registerWindowService(s: Pick<Services, 'config'>, svc: BackupWindowService): void {
  byConfig.set(s.config, svc);
}

export function unregisterWindowService(s: Pick<Services, 'config'>, svc: BackupWindowService): void {
  if (byConfig.get(s.config) === svc) byConfig.delete(s.config);
}

export function windowServiceFor(s: Pick<Services, 'config'>): BackupWindowService | undefined {
  return byConfig.get(s.config);
}
