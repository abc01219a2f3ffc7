import { validateView } from './block-kit-validator.ts';
import { boolParam, checkMessageContent, contentErrorBody, jsonParam, stringParam } from './message-content.ts';
import type { PostMessageRateLimit } from './post-message-rate-limit.ts';
import type { SlackRecords, StoredMessage, TokenKind } from './records.ts';
import { slackId, type SlackClock } from './slack-ids.ts';
import type { TriggerIds } from './trigger-ids.ts';
import { resolveChannel, userInfo, type Workspace } from './workspace.ts';

// The Web API methods backup-bot calls, each answering the way api.slack.com documents it.

export interface ApiContext {
  records: SlackRecords;
  clock: SlackClock;
  workspace: Workspace;
  rateLimit: PostMessageRateLimit;
  triggers: TriggerIds;
  /** Issues a one-use Socket Mode URL (apps.connections.open). */
  socketUrl: () => string;
}

export interface ApiResult {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

type Params = Record<string, unknown>;
type Handler = (ctx: ApiContext, params: Params) => ApiResult;

interface MethodSpec {
  /** Token kinds Slack accepts for the method. */
  tokens: TokenKind[];
  /** Slack refuses the token as a POST parameter for some methods (apps.connections.open). */
  headerTokenOnly?: boolean;
  handler: Handler;
}

const ok = (body: Params = {}): ApiResult => ({ status: 200, body: { ok: true, ...body } });
const err = (error: string, extra: Params = {}): ApiResult => ({ status: 200, body: { ok: false, error, ...extra } });

function permalink(ctx: ApiContext, m: StoredMessage): string {
  const base = `https://${ctx.workspace.teamDomain}.slack.com/archives/${m.channel}/p${m.ts.replace('.', '')}`;
  return m.thread_ts === undefined ? base : `${base}?thread_ts=${m.thread_ts}&cid=${m.channel}`;
}

export function messageJson(ctx: ApiContext, m: StoredMessage): Params {
  const out: Params = {
    type: 'message',
    user: m.user,
    bot_id: m.bot_id,
    app_id: ctx.workspace.appId,
    team: ctx.workspace.teamId,
    ts: m.ts,
    text: m.text,
  };
  if (m.blocks !== undefined) out['blocks'] = m.blocks;
  if (m.attachments !== undefined) out['attachments'] = m.attachments;
  if (m.thread_ts !== undefined) out['thread_ts'] = m.thread_ts;
  if (m.metadata !== undefined) out['metadata'] = m.metadata;
  const lastEdit = m.edits.at(-1);
  if (lastEdit !== undefined) out['edited'] = { user: m.user, ts: (lastEdit.at / 1000).toFixed(6) };
  return out;
}

function channelParam(ctx: ApiContext, params: Params, key = 'channel'): string | undefined {
  const raw = stringParam(params[key]);
  return raw === undefined ? undefined : resolveChannel(ctx.workspace, raw);
}

function liveMessage(ctx: ApiContext, channel: string, ts: string | undefined): StoredMessage | undefined {
  if (ts === undefined) return undefined;
  const m = ctx.records.findMessage(channel, ts);
  return m === undefined || m.deleted ? undefined : m;
}

const postMessage: Handler = (ctx, params) => {
  const channel = channelParam(ctx, params);
  if (channel === undefined) return err('channel_not_found');
  const now = Date.now();
  const retryAfter = ctx.rateLimit.retryAfter(channel, now);
  if (retryAfter !== undefined) {
    return { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'Retry-After': String(retryAfter) } };
  }
  const check = checkMessageContent(params);
  if (!check.ok) return { status: 200, body: contentErrorBody(check) };
  let threadTs = stringParam(params['thread_ts']);
  // A reply to a reply lands in the parent's thread, as in Slack.
  const parent = threadTs === undefined ? undefined : ctx.records.findMessage(channel, threadTs);
  if (parent?.thread_ts !== undefined) threadTs = parent.thread_ts;
  const metadata = jsonParam(params['metadata']);
  const m: StoredMessage = {
    channel,
    ts: ctx.clock.next(),
    text: check.content.text ?? '',
    user: ctx.workspace.botUserId,
    bot_id: ctx.workspace.botId,
    reply_broadcast: threadTs !== undefined && boolParam(params['reply_broadcast']),
    via: 'chat.postMessage',
    postedAt: now,
    edits: [],
    reactions: [],
    deleted: false,
  };
  if (threadTs !== undefined) m.thread_ts = threadTs;
  if (check.content.blocks !== undefined) m.blocks = check.content.blocks;
  if (check.content.attachments !== undefined) m.attachments = check.content.attachments;
  if (metadata !== undefined && !(metadata instanceof Error)) m.metadata = metadata;
  ctx.rateLimit.accepted(channel, now);
  ctx.records.addMessage(m);
  return ok({ channel, ts: m.ts, message: messageJson(ctx, m) });
};

const postEphemeral: Handler = (ctx, params) => {
  const channel = channelParam(ctx, params);
  if (channel === undefined) return err('channel_not_found');
  const user = stringParam(params['user']);
  if (user === undefined || (ctx.workspace.usersListed && !ctx.workspace.users.has(user))) {
    return err('user_not_in_channel');
  }
  const check = checkMessageContent(params);
  if (!check.ok) return { status: 200, body: contentErrorBody(check) };
  const ts = ctx.clock.next();
  const threadTs = stringParam(params['thread_ts']);
  ctx.records.ephemeralMessages.push({
    channel,
    user,
    ts,
    ...(threadTs === undefined ? {} : { thread_ts: threadTs }),
    text: check.content.text ?? '',
    ...(check.content.blocks === undefined ? {} : { blocks: check.content.blocks }),
    via: 'chat.postEphemeral',
    at: Date.now(),
  });
  ctx.records.changed();
  return ok({ message_ts: ts });
};

const update: Handler = (ctx, params) => {
  const channel = channelParam(ctx, params);
  if (channel === undefined) return err('channel_not_found');
  const m = liveMessage(ctx, channel, stringParam(params['ts']));
  if (m === undefined) return err('message_not_found');
  const check = checkMessageContent(params);
  if (!check.ok) return { status: 200, body: contentErrorBody(check) };
  // chat.update keeps the previous blocks when none are passed; an empty array removes them.
  if (check.content.text !== undefined) m.text = check.content.text;
  if (check.content.blocks !== undefined) m.blocks = check.content.blocks;
  if (check.content.attachments !== undefined) m.attachments = check.content.attachments;
  m.edits.push({ at: Date.now(), text: m.text, ...(m.blocks === undefined ? {} : { blocks: m.blocks }), via: 'chat.update' });
  ctx.records.changed();
  return ok({ channel, ts: m.ts, text: m.text, message: messageJson(ctx, m) });
};

const getPermalink: Handler = (ctx, params) => {
  const channel = channelParam(ctx, params);
  if (channel === undefined) return err('channel_not_found');
  const m = liveMessage(ctx, channel, stringParam(params['message_ts']));
  if (m === undefined) return err('message_not_found');
  return ok({ channel, permalink: permalink(ctx, m) });
};

const reactionsAdd: Handler = (ctx, params) => {
  const channel = channelParam(ctx, params);
  if (channel === undefined) return err('channel_not_found');
  const name = stringParam(params['name']);
  if (name === undefined || !/^[a-z0-9_+'-]+(::skin-tone-[2-6])?$/.test(name)) return err('invalid_name');
  const m = liveMessage(ctx, channel, stringParam(params['timestamp']));
  if (m === undefined) return err('message_not_found');
  if (m.reactions.includes(name)) return err('already_reacted');
  m.reactions.push(name);
  ctx.records.changed();
  return ok();
};

const viewsOpen: Handler = (ctx, params) => {
  const trigger = stringParam(params['trigger_id']);
  const view = jsonParam(params['view']);
  if (trigger === undefined || view === undefined) return err('invalid_arguments');
  if (view instanceof Error) return err('invalid_arguments', { response_metadata: { messages: ['[ERROR] view must be a JSON object [json-pointer:/view]'] } });
  const errors = validateView(view);
  if (errors.length > 0) return err('invalid_arguments', { response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } });
  const triggerError = ctx.triggers.consume(trigger);
  if (triggerError !== undefined) return err(triggerError);
  const id = slackId('V');
  const opened = { ...(view as Params), id, team_id: ctx.workspace.teamId, app_id: ctx.workspace.appId, bot_id: ctx.workspace.botId, state: { values: {} }, hash: `${Date.now()}.${id}` };
  ctx.records.openedViews.push({ trigger_id: trigger, view: view as Params, id, at: Date.now() });
  ctx.records.changed();
  return ok({ view: opened });
};

const usergroupsUsersList: Handler = (ctx, params) => {
  const group = stringParam(params['usergroup']);
  if (group === undefined) return err('invalid_arguments');
  const members = ctx.workspace.usergroups.get(group);
  if (members === undefined) return err('no_such_subteam');
  return ok({ users: [...members] });
};

const usersInfo: Handler = (ctx, params) => {
  const id = stringParam(params['user']);
  const u = id === undefined ? undefined : ctx.workspace.users.get(id);
  if (u === undefined) return err('user_not_found');
  return ok({ user: userInfo(ctx.workspace, u) });
};

const authTest: Handler = (ctx) =>
  ok({
    url: `https://${ctx.workspace.teamDomain}.slack.com/`,
    team: ctx.workspace.teamName,
    user: ctx.workspace.botName,
    team_id: ctx.workspace.teamId,
    user_id: ctx.workspace.botUserId,
    bot_id: ctx.workspace.botId,
    app_id: ctx.workspace.appId,
    is_enterprise_install: false,
  });

const connectionsOpen: Handler = (ctx) => ok({ url: ctx.socketUrl() });

export const METHODS: Record<string, MethodSpec> = {
  'auth.test': { tokens: ['bot'], handler: authTest },
  'chat.postMessage': { tokens: ['bot'], handler: postMessage },
  'chat.postEphemeral': { tokens: ['bot'], handler: postEphemeral },
  'chat.update': { tokens: ['bot'], handler: update },
  'chat.getPermalink': { tokens: ['bot'], handler: getPermalink },
  'reactions.add': { tokens: ['bot'], handler: reactionsAdd },
  'views.open': { tokens: ['bot'], handler: viewsOpen },
  'usergroups.users.list': { tokens: ['bot'], handler: usergroupsUsersList },
  'users.info': { tokens: ['bot'], handler: usersInfo },
  'apps.connections.open': { tokens: ['app'], headerTokenOnly: true, handler: connectionsOpen },
};

export interface TokenSource {
  kind: TokenKind;
  fromHeader: boolean;
}

/** Dispatches one Web API call: method lookup, then auth, then the method itself. */
export function callWebApi(ctx: ApiContext, method: string, params: Params, token: TokenSource): ApiResult {
  const spec = METHODS[method];
  if (spec === undefined) return { status: 200, body: { ok: false, error: 'unknown_method', req_method: method } };
  if (token.kind === 'none') return err('not_authed');
  if (token.kind === 'unknown') return err('invalid_auth');
  if (spec.headerTokenOnly === true && !token.fromHeader) return err('invalid_auth');
  if (!spec.tokens.includes(token.kind)) return err('not_allowed_token_type');
  return spec.handler(ctx, params);
}
