import type { StoredMessage } from './records.ts';
import { slackId } from './slack-ids.ts';
import { channelName, defaultChannelId, defaultUserId, userName, type Workspace } from './workspace.ts';

// The payloads Slack sends an app, field for field as docs.slack.dev documents them
// (slash command request parameters; block_actions and Events API payloads).

// Apps no longer use it (they verify signatures), but Slack still sends the legacy token.
export const VERIFICATION_TOKEN = 'standin-verification-token';

export interface SlashCommandOptions {
  command?: string;
  text?: string;
  user_id?: string;
  user_name?: string;
  channel_id?: string;
  channel_name?: string;
  team_id?: string;
  team_domain?: string;
  /** Extra or overriding form fields. */
  extra?: Record<string, string>;
}

export function slashCommandPayload(ws: Workspace, o: SlashCommandOptions, responseUrl: string, triggerId: string): Record<string, string> {
  const userId = o.user_id ?? defaultUserId(ws);
  const channelId = o.channel_id ?? defaultChannelId(ws);
  return {
    token: VERIFICATION_TOKEN,
    team_id: o.team_id ?? ws.teamId,
    team_domain: o.team_domain ?? ws.teamDomain,
    channel_id: channelId,
    channel_name: o.channel_name ?? channelName(ws, channelId),
    user_id: userId,
    user_name: o.user_name ?? userName(ws, userId),
    command: o.command ?? '/backup',
    text: o.text ?? '',
    api_app_id: ws.appId,
    is_enterprise_install: 'false',
    response_url: responseUrl,
    trigger_id: triggerId,
    ...o.extra,
  };
}

export interface BlockActionOptions {
  /** The button's action_id; its block_id, text and value are looked up in the message's blocks. */
  action_id: string;
  /** Overrides the value found on the button. */
  value?: string;
  block_id?: string;
  user_id?: string;
  channel_id?: string;
  /** The message the button is on: a stored message, or just its ts (and thread_ts). */
  message?: StoredMessage | { ts: string; thread_ts?: string; blocks?: unknown[]; text?: string };
  /** Set when the button sat on an ephemeral message (e.g. a slash command reply). */
  is_ephemeral?: boolean;
  /** Merged over the built payload. */
  extra?: Record<string, unknown>;
}

interface FoundAction {
  block_id?: string;
  element: Record<string, unknown>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Finds the interactive element with `actionId` in a blocks array (actions elements and section accessories). */
export function findAction(blocks: unknown[] | undefined, actionId: string): FoundAction | undefined {
  for (const b of blocks ?? []) {
    if (!isObject(b)) continue;
    const blockId = typeof b['block_id'] === 'string' ? b['block_id'] : undefined;
    const candidates = [...(Array.isArray(b['elements']) ? b['elements'] : []), b['accessory'], b['element']];
    for (const el of candidates) {
      if (isObject(el) && el['action_id'] === actionId) return { ...(blockId === undefined ? {} : { block_id: blockId }), element: el };
    }
  }
  return undefined;
}

/**
 * The button a user sees labelled `label` (a string: the label's start) on a message: its
 * action_id and value, as a test clicks it. Throws, showing the blocks, when there is none.
 */
export function buttonLabelled(m: { ts?: string; blocks?: unknown[] }, label: string | RegExp): { actionId: string; value: string } {
  const shown = (text: string) => (typeof label === 'string' ? text.startsWith(label) : label.test(text));
  for (const b of m.blocks ?? []) {
    if (!isObject(b) || !Array.isArray(b['elements'])) continue;
    for (const e of b['elements']) {
      const text = isObject(e) && isObject(e['text']) ? e['text']['text'] : undefined;
      if (isObject(e) && e['type'] === 'button' && typeof text === 'string' && shown(text)) return { actionId: String(e['action_id']), value: String(e['value']) };
    }
  }
  throw new Error(`no button ${String(label)} on message ${m.ts}: ${JSON.stringify(m.blocks)}`);
}

export function blockActionPayload(ws: Workspace, o: BlockActionOptions, responseUrl: string, triggerId: string): Record<string, unknown> {
  const userId = o.user_id ?? defaultUserId(ws);
  const channelId = o.channel_id ?? (o.message !== undefined && 'channel' in o.message ? o.message.channel : defaultChannelId(ws));
  const found = findAction(o.message?.blocks, o.action_id);
  if (o.message?.blocks !== undefined && found === undefined) {
    throw new Error(`Slack stand-in: no element with action_id '${o.action_id}' in message ${o.message.ts}; a user cannot click a button that is not there`);
  }
  const element = found?.element ?? {};
  const elementType = typeof element['type'] === 'string' ? element['type'] : 'button';
  const actionTs = (Date.now() / 1000).toFixed(6);
  const action: Record<string, unknown> = {
    action_id: o.action_id,
    block_id: o.block_id ?? found?.block_id ?? slackId('', 5),
    type: elementType,
    action_ts: actionTs,
  };
  if (element['text'] !== undefined) action['text'] = element['text'];
  const value = o.value ?? (typeof element['value'] === 'string' ? element['value'] : undefined);
  if (value !== undefined) action['value'] = value;
  if (element['style'] !== undefined) action['style'] = element['style'];

  const threadTs = o.message?.thread_ts;
  const container: Record<string, unknown> = {
    type: 'message',
    message_ts: o.message?.ts,
    channel_id: channelId,
    is_ephemeral: o.is_ephemeral ?? false,
  };
  if (threadTs !== undefined) container['thread_ts'] = threadTs;
  const payload: Record<string, unknown> = {
    type: 'block_actions',
    user: { id: userId, username: userName(ws, userId), name: userName(ws, userId), team_id: ws.teamId },
    api_app_id: ws.appId,
    token: VERIFICATION_TOKEN,
    container,
    trigger_id: triggerId,
    team: { id: ws.teamId, domain: ws.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channelId, name: channelName(ws, channelId) },
    state: { values: {} },
    response_url: responseUrl,
    actions: [action],
  };
  if (o.message !== undefined) {
    const message: Record<string, unknown> = {
      type: 'message',
      user: ws.botUserId,
      bot_id: ws.botId,
      app_id: ws.appId,
      team: ws.teamId,
      ts: o.message.ts,
      text: o.message.text ?? '',
    };
    if (o.message.blocks !== undefined) message['blocks'] = o.message.blocks;
    if (threadTs !== undefined) message['thread_ts'] = threadTs;
    payload['message'] = message;
  }
  return { ...payload, ...o.extra };
}

export interface EventOptions {
  /** The inner event, e.g. `{ type: 'message', channel, user, text, ts }`. */
  event: Record<string, unknown>;
  event_id?: string;
  /** Merged over the built envelope. */
  extra?: Record<string, unknown>;
}

export function eventCallbackBody(ws: Workspace, o: EventOptions): Record<string, unknown> {
  const eventTime = Math.floor(Date.now() / 1000);
  return {
    token: VERIFICATION_TOKEN,
    team_id: ws.teamId,
    context_team_id: ws.teamId,
    api_app_id: ws.appId,
    event: { event_ts: (Date.now() / 1000).toFixed(6), ...o.event },
    type: 'event_callback',
    event_id: o.event_id ?? slackId('Ev'),
    event_time: eventTime,
    authorizations: [{ enterprise_id: null, team_id: ws.teamId, user_id: ws.botUserId, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    ...o.extra,
  };
}

export function urlVerificationBody(challenge: string): Record<string, unknown> {
  return { token: VERIFICATION_TOKEN, challenge, type: 'url_verification' };
}
