import { DateTime } from 'luxon';

// The fake workspace the stand-in serves: who is in it, which channels and user groups exist.

export interface StandInUser {
  id: string;
  name?: string;
  real_name?: string;
  /** IANA zone, e.g. "Europe/Berlin"; users.info derives tz_offset and tz_label from it. */
  tz?: string;
  tz_label?: string;
  /** Seconds east of UTC; computed from `tz` (at the time of the call) when left out. */
  tz_offset?: number;
  is_bot?: boolean;
  is_admin?: boolean;
  deleted?: boolean;
}

export interface StandInChannel {
  id: string;
  name?: string;
  is_private?: boolean;
}

export interface WorkspaceOptions {
  teamId?: string;
  teamDomain?: string;
  teamName?: string;
  appId?: string;
  botUserId?: string;
  botId?: string;
  botName?: string;
  users?: StandInUser[];
  /** When given, posting to any other channel fails with channel_not_found; when left out, any id is accepted. */
  channels?: StandInChannel[];
  /** User group id (S…) → member user ids. */
  usergroups?: Record<string, string[]>;
}

export interface Workspace {
  teamId: string;
  teamDomain: string;
  teamName: string;
  appId: string;
  botUserId: string;
  botId: string;
  botName: string;
  users: Map<string, StandInUser>;
  /** True when the test listed its users: then chat.postEphemeral to anyone else fails. */
  usersListed: boolean;
  channels: Map<string, StandInChannel> | undefined;
  usergroups: Map<string, string[]>;
}

export const DEFAULT_USER_ID = 'U0STANDIN01';
export const DEFAULT_CHANNEL_ID = 'C0STANDIN01';

export function createWorkspace(o: WorkspaceOptions = {}): Workspace {
  const users = o.users ?? [{ id: DEFAULT_USER_ID, name: 'operator', real_name: 'Operator', tz: 'UTC' }];
  return {
    teamId: o.teamId ?? 'T0STANDIN01',
    teamDomain: o.teamDomain ?? 'standin',
    teamName: o.teamName ?? 'Stand-in Workspace',
    appId: o.appId ?? 'A0STANDIN01',
    botUserId: o.botUserId ?? 'U0STANDINBOT',
    botId: o.botId ?? 'B0STANDIN01',
    botName: o.botName ?? 'backup-bot',
    users: new Map(users.map((u) => [u.id, u])),
    usersListed: o.users !== undefined,
    channels: o.channels === undefined ? undefined : new Map(o.channels.map((c) => [c.id, c])),
    usergroups: new Map(Object.entries(o.usergroups ?? {})),
  };
}

/** Accepts a channel id, or a `#name`/`name` of a configured channel, like chat.postMessage does. */
export function resolveChannel(ws: Workspace, channel: string): string | undefined {
  if (ws.channels === undefined) return channel.startsWith('#') ? channel.slice(1) : channel;
  if (ws.channels.has(channel)) return channel;
  const name = channel.startsWith('#') ? channel.slice(1) : channel;
  for (const c of ws.channels.values()) if (c.name === name) return c.id;
  return undefined;
}

export function channelName(ws: Workspace, channel: string): string {
  return ws.channels?.get(channel)?.name ?? channel.toLowerCase();
}

export function defaultUserId(ws: Workspace): string {
  return ws.users.keys().next().value ?? DEFAULT_USER_ID;
}

export function defaultChannelId(ws: Workspace): string {
  return ws.channels?.keys().next().value ?? DEFAULT_CHANNEL_ID;
}

export function userName(ws: Workspace, userId: string): string {
  return ws.users.get(userId)?.name ?? userId.toLowerCase();
}

// The users.info `user` object, trimmed to the fields bots read.
export function userInfo(ws: Workspace, u: StandInUser): Record<string, unknown> {
  const tz = u.tz ?? 'UTC';
  const zone = DateTime.now().setZone(tz);
  const offsetSeconds = u.tz_offset ?? (zone.isValid ? zone.offset * 60 : 0);
  const name = u.name ?? u.id.toLowerCase();
  const realName = u.real_name ?? name;
  return {
    id: u.id,
    team_id: ws.teamId,
    name,
    deleted: u.deleted ?? false,
    real_name: realName,
    tz,
    tz_label: u.tz_label ?? (zone.isValid ? zone.offsetNameLong ?? tz : tz),
    tz_offset: offsetSeconds,
    is_admin: u.is_admin ?? false,
    is_owner: false,
    is_bot: u.is_bot ?? false,
    is_app_user: false,
    updated: 1700000000,
    profile: { real_name: realName, display_name: name, team: ws.teamId },
  };
}
