/** The machine's own time zone, for the person at the terminal: TZ, else the system's, else UTC. */
import { IANAZone } from 'luxon';
import type { UserZone } from '../command/context.ts';

export function localZone(): string {
  const z = process.env['TZ']?.trim() || Intl.DateTimeFormat().resolvedOptions().timeZone;
  return z && IANAZone.isValidZone(z) ? z : 'UTC';
}

export async function terminalZone(): Promise<UserZone> {
  return { zone: localZone(), source: 'this machine' };
}
