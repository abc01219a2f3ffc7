import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deliverToBot, formBody, sendToBot, type DeliverOptions, type HttpAck, type SentHttpRequest } from './http-driver.ts';
import {
  blockActionPayload,
  eventCallbackBody,
  slashCommandPayload,
  urlVerificationBody,
  type BlockActionOptions,
  type EventOptions,
  type SlashCommandOptions,
} from './payloads.ts';
import { PostMessageRateLimit } from './post-message-rate-limit.ts';
import {
  SlackRecords,
  type ApiCall,
  type EphemeralMessage,
  type OpenedView,
  type SentEnvelope,
  type StoredMessage,
  type TokenKind,
  type UserResponse,
} from './records.ts';
import { ResponseUrls, type ResponseUrlContext } from './response-urls.ts';
import { SlackClock } from './slack-ids.ts';
import { SocketModeServer, type DisconnectOptions, type SocketAck } from './socket-mode-server.ts';
import { noteSecrets } from '../secrets-scan.ts';
import { TriggerIds } from './trigger-ids.ts';
import { callWebApi, type ApiContext, type ApiResult } from './web-api-methods.ts';
import { createWorkspace, defaultChannelId, defaultUserId, type Workspace, type WorkspaceOptions } from './workspace.ts';

export { validateBlocks, validateView, LIMITS } from './block-kit-validator.ts';
export { signSlackRequest } from './request-signature.ts';
export type { ApiCall, EphemeralMessage, OpenedView, SentEnvelope, StoredMessage, UserResponse } from './records.ts';
export type { StandInChannel, StandInUser, Workspace } from './workspace.ts';
export type { HttpAck } from './http-driver.ts';
export type { SocketAck, DisconnectOptions } from './socket-mode-server.ts';
export type { BlockActionOptions, EventOptions, SlashCommandOptions } from './payloads.ts';

// A local Slack for tests: Web API, response_url webhooks and Socket Mode on one loopback port,
// enforcing Slack's contracts (tokens, Block Kit limits, per-channel rate limit) and recording
// everything. Point the bot at it with SLACK_API_URL=<standIn.apiUrl>.

export interface SlackStandInOptions extends WorkspaceOptions {
  botToken?: string;
  appToken?: string;
  signingSecret?: string;
  /** chat.postMessage per second per channel (default 1); Infinity switches the limit off. */
  postMessagePerSecondPerChannel?: number;
  /** How long Slack waits for an ack (default 3000 ms). */
  ackTimeoutMs?: number;
  /** How long a trigger_id stays usable (default 3000 ms). */
  triggerTtlMs?: number;
  /** How long a response_url stays usable (default 30 minutes). */
  responseUrlTtlMs?: number;
  /** Ping Socket Mode clients this often, as Slack does (default: no pings). */
  socketPingIntervalMs?: number;
}

interface SigningAndTarget extends Partial<DeliverOptions> {
  /** The bot's request URL; defaults to the one given to setRequestUrl(). */
  url?: string;
}

export type SlashCommandHttpOptions = SlashCommandOptions & SigningAndTarget;
export type SlashCommandSocketOptions = SlashCommandOptions & { timeoutMs?: number };

export interface InteractionSend {
  /** A complete interaction payload (e.g. from standIn.blockAction()). */
  payload?: Record<string, unknown>;
  /** Or the description of a button click to build one from. */
  blockAction?: BlockActionOptions;
}

export type InteractionHttpOptions = InteractionSend & SigningAndTarget;
export type InteractionSocketOptions = InteractionSend & { timeoutMs?: number };

export type EventHttpOptions = SigningAndTarget & (EventOptions | { challenge: string });
export type EventSocketOptions = EventOptions & { timeoutMs?: number; retry_attempt?: number; retry_reason?: string };

export interface SlashCommandDelivery {
  /** The form fields sent to the bot. */
  sent: Record<string, string>;
  responseUrl: string;
  /** Use with standIn.responses(responseUrlId). */
  responseUrlId: string;
}

export interface InteractionDelivery {
  /** The interaction payload sent to the bot. */
  sent: Record<string, unknown>;
  responseUrlId?: string;
}

export interface SlackStandIn {
  /** Value for SLACK_API_URL (ends with `/api/`). */
  apiUrl: string;
  /** http://127.0.0.1:<port> */
  origin: string;
  botToken: string;
  appToken: string;
  signingSecret: string;
  workspace: Workspace;

  messages(channel: string): StoredMessage[];
  threadReplies(channel: string, ts: string): StoredMessage[];
  allMessages(channel?: string): StoredMessage[];
  message(channel: string, ts: string): StoredMessage | undefined;
  calls(method?: string): ApiCall[];
  rateLimited(method?: string): ApiCall[];
  ephemerals(channel?: string): EphemeralMessage[];
  responses(responseUrlId?: string): UserResponse[];
  views(): OpenedView[];
  envelopes(): SentEnvelope[];
  waitFor<T>(predicate: () => T | Promise<T>, timeoutMs?: number, what?: string): Promise<NonNullable<T>>;
  /** Waits for the bot's reply to a slash command delivered with sendSlashCommand (through its response_url). */
  replyTo(delivery: Pick<SlashCommandDelivery, 'responseUrlId'>, timeoutMs?: number, what?: string): Promise<UserResponse>;
  /** Forgets every record and rate-limit window; configuration stays. */
  reset(): void;
  setPostMessageLimit(perSecondPerChannel: number): void;

  /** Default target for the send*Http helpers. */
  setRequestUrl(url: string): void;
  /** Builds a block_actions payload for clicking a button on a message (with a fresh response_url and trigger_id). */
  blockAction(o: BlockActionOptions): Record<string, unknown>;
  /** Registers a fresh response_url for a custom payload. */
  newResponseUrl(ctx: ResponseUrlContext): { url: string; id: string };
  newTriggerId(): string;

  sendSlashCommandHttp(o?: SlashCommandHttpOptions): Promise<HttpAck & SlashCommandDelivery>;
  sendInteractionHttp(o: InteractionHttpOptions): Promise<HttpAck & InteractionDelivery>;
  sendEventHttp(o: EventHttpOptions): Promise<HttpAck & { sent: Record<string, unknown> }>;
  /** Sends a request made by one of the send*Http helpers (its `request`) again, unchanged: a replay. */
  replayHttp(request: SentHttpRequest, timeoutMs?: number): Promise<HttpAck>;
  sendSlashCommandSocket(o?: SlashCommandSocketOptions): Promise<SocketAck & SlashCommandDelivery>;
  sendInteractionSocket(o: InteractionSocketOptions): Promise<SocketAck & InteractionDelivery>;
  sendEventSocket(o: EventSocketOptions): Promise<SocketAck & { sent: Record<string, unknown> }>;
  /** Sends any envelope as is (for fuzzing what a client must survive); resolves with its ack. */
  sendRawEnvelopeSocket(type: string, payload: Record<string, unknown>, o?: { timeoutMs?: number; acceptsResponsePayload?: boolean }): Promise<SocketAck>;

  /** Asks Socket Mode clients to reconnect (see DisconnectOptions). */
  disconnect(o?: DisconnectOptions): void;
  /** Resolves when `n` Socket Mode connections have said hello since start (reconnects count). */
  waitForConnections(n: number, timeoutMs?: number): Promise<number>;
  /** Currently open Socket Mode connections. */
  openConnections(): number;

  close(): Promise<void>;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

type ParsedParams = { params: Record<string, unknown>; isJson: boolean } | { error: string };

// @slack/web-api posts application/x-www-form-urlencoded (objects as JSON strings); Slack also
// takes application/json, where the token must come in the Authorization header.
function parseParams(contentType: string | undefined, raw: string, query: URLSearchParams): ParsedParams {
  const params: Record<string, unknown> = Object.fromEntries(query.entries());
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (raw === '') return { params, isJson: false };
  if (type === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { error: 'invalid_json' };
      return { params: { ...params, ...(parsed as Record<string, unknown>) }, isJson: true };
    } catch {
      return { error: 'invalid_json' };
    }
  }
  if (type === 'application/x-www-form-urlencoded' || type === '') {
    for (const [k, v] of new URLSearchParams(raw)) params[k] = v;
    return { params, isJson: false };
  }
  return { error: 'invalid_form_data' };
}

export async function startSlackStandIn(opts: SlackStandInOptions = {}): Promise<SlackStandIn> {
  const botToken = opts.botToken ?? 'xoxb-standin-0000-bot';
  const appToken = opts.appToken ?? 'xapp-1-standin-0000-app';
  const signingSecret = opts.signingSecret ?? 'standin-signing-secret';
  const records = new SlackRecords();
  noteSecrets(botToken, appToken, signingSecret);
  // A test process may end without close(): what the bot sent still reaches the secrets scan.
  const spillAtExit = () => records.spill();
  process.once('exit', spillAtExit);
  const clock = new SlackClock();
  const workspace = createWorkspace(opts);
  const rateLimit = new PostMessageRateLimit(opts.postMessagePerSecondPerChannel ?? 1);
  const triggers = new TriggerIds(opts.triggerTtlMs);
  const responseUrls = new ResponseUrls(records, clock, workspace);
  if (opts.responseUrlTtlMs !== undefined) responseUrls.ttlMs = opts.responseUrlTtlMs;
  const socket = new SocketModeServer(records, workspace.appId, opts.socketPingIntervalMs);
  if (opts.ackTimeoutMs !== undefined) socket.ackTimeoutMs = opts.ackTimeoutMs;
  let origin = '';
  let requestUrl: string | undefined;

  const ctx: ApiContext = { records, clock, workspace, rateLimit, triggers, socketUrl: () => socket.issueUrl(origin) };

  const tokenKind = (token: string | undefined): TokenKind => {
    if (token === undefined || token === '') return 'none';
    if (token === botToken) return 'bot';
    if (token === appToken) return 'app';
    return 'unknown';
  };

  async function handleApi(req: IncomingMessage, res: ServerResponse, method: string, query: URLSearchParams): Promise<void> {
    const at = Date.now();
    const raw = await readBody(req);
    const parsed = parseParams(req.headers['content-type'], raw, query);
    const header = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    let params: Record<string, unknown> = {};
    let result: ApiResult;
    let kind: TokenKind = tokenKind(header);
    if ('error' in parsed) {
      result = { status: 200, body: { ok: false, error: parsed.error } };
    } else {
      const { token, ...rest } = parsed.params;
      params = rest;
      const bodyToken = !parsed.isJson && typeof token === 'string' ? token : undefined;
      kind = tokenKind(header ?? bodyToken);
      result = callWebApi(ctx, method, params, { kind, fromHeader: header !== undefined });
    }
    const call: ApiCall = { method, params, tokenKind: kind, at, status: result.status, response: result.body };
    const retryAfter = result.headers?.['Retry-After'];
    if (retryAfter !== undefined) call.retryAfter = Number(retryAfter);
    records.apiCalls.push(call);
    records.changed();
    send(res, result.status, result.body, result.headers);
  }

  async function handleResponseUrl(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const raw = await readBody(req);
    const reply = responseUrls.post(id, raw, req.headers['content-type']);
    send(res, reply.status, reply.body);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const api = /^\/api\/([A-Za-z0-9_.]+)$/.exec(url.pathname);
    const response = /^\/response\/([0-9a-f]+)$/.exec(url.pathname);
    let work: Promise<void>;
    if (api?.[1] !== undefined && (req.method === 'POST' || req.method === 'GET')) {
      work = handleApi(req, res, api[1], url.searchParams);
    } else if (response?.[1] !== undefined && req.method === 'POST') {
      work = handleResponseUrl(req, res, response[1]);
    } else {
      send(res, 404, { ok: false, error: 'not_found' });
      return;
    }
    work.catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { ok: false, error: 'fatal_error', detail: e instanceof Error ? e.message : String(e) });
    });
  });
  server.on('upgrade', (req, sock, head) => socket.handleUpgrade(req, sock, head));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  const target = (o: SigningAndTarget): DeliverOptions => {
    const url = o.url ?? requestUrl;
    if (url === undefined) throw new Error('Slack stand-in: no bot URL; pass `url` or call setRequestUrl() with the bot\'s /slack/events URL');
    return { ...o, url };
  };

  const responseIdOf = (payload: Record<string, unknown>): string | undefined => {
    const u = payload['response_url'];
    if (typeof u !== 'string' || !u.startsWith(`${origin}/response/`)) return undefined;
    return u.slice(`${origin}/response/`.length);
  };

  const newResponseUrl = (c: ResponseUrlContext): { url: string; id: string } => {
    const id = responseUrls.issue(c);
    return { id, url: `${origin}/response/${id}` };
  };

  const slashCommand = (o: SlashCommandOptions): SlashCommandDelivery => {
    const { id, url } = newResponseUrl({
      interaction: 'slash_command',
      channel: o.channel_id ?? defaultChannelId(workspace),
      user: o.user_id ?? defaultUserId(workspace),
    });
    return { sent: slashCommandPayload(workspace, o, url, triggers.issue()), responseUrl: url, responseUrlId: id };
  };

  const blockAction = (o: BlockActionOptions): Record<string, unknown> => {
    const channel = o.channel_id ?? (o.message !== undefined && 'channel' in o.message ? o.message.channel : defaultChannelId(workspace));
    const { url } = newResponseUrl({
      interaction: 'block_actions',
      channel,
      user: o.user_id ?? defaultUserId(workspace),
      ...(o.message === undefined ? {} : { messageTs: o.message.ts }),
      messageIsEphemeral: o.is_ephemeral ?? false,
    });
    return blockActionPayload(workspace, { ...o, channel_id: channel }, url, triggers.issue());
  };

  const interactionPayload = (o: InteractionSend): Record<string, unknown> => {
    if (o.payload !== undefined) return o.payload;
    if (o.blockAction !== undefined) return blockAction(o.blockAction);
    throw new Error('Slack stand-in: pass `payload` or `blockAction` to send an interaction');
  };

  // An ack body is what the user sees first; record it (and check its blocks) like a response_url post.
  const recordAck = (responseUrlId: string, body: unknown): void => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
    if (Object.keys(body).length === 0) return;
    responseUrls.recordAck(responseUrlId, body as Record<string, unknown>);
  };

  const standIn: SlackStandIn = {
    apiUrl: `${origin}/api/`,
    origin,
    botToken,
    appToken,
    signingSecret,
    workspace,

    messages: (channel) => records.messages(channel),
    threadReplies: (channel, ts) => records.threadReplies(channel, ts),
    allMessages: (channel) => records.allMessages(channel),
    message: (channel, ts) => records.findMessage(channel, ts),
    calls: (method) => records.calls(method),
    rateLimited: (method) => records.rateLimited(method),
    ephemerals: (channel) => records.ephemerals(channel),
    responses: (id) => records.responses(id),
    views: () => [...records.openedViews],
    envelopes: () => [...records.envelopes],
    waitFor: (predicate, timeoutMs, what) => records.waitFor(predicate, timeoutMs, what),
    replyTo: (delivery, timeoutMs, what) =>
      records.waitFor(() => records.responses(delivery.responseUrlId).find((r) => r.via === 'response_url'), timeoutMs, what ?? 'the reply to the command'),
    reset: () => {
      records.reset();
      rateLimit.reset();
    },
    setPostMessageLimit: (perSecond) => rateLimit.setPerSecond(perSecond),

    setRequestUrl: (url) => {
      requestUrl = url;
    },
    blockAction,
    newResponseUrl,
    newTriggerId: () => triggers.issue(),

    async sendSlashCommandHttp(o = {}) {
      const delivery = slashCommand(o);
      const ack = await deliverToBot(target(o), signingSecret, formBody(delivery.sent), 'application/x-www-form-urlencoded');
      if (ack.status === 200) recordAck(delivery.responseUrlId, ack.json);
      return { ...ack, ...delivery };
    },

    async sendInteractionHttp(o) {
      const payload = interactionPayload(o);
      const ack = await deliverToBot(target(o), signingSecret, formBody({ payload: JSON.stringify(payload) }), 'application/x-www-form-urlencoded');
      const responseUrlId = responseIdOf(payload);
      return { ...ack, sent: payload, ...(responseUrlId === undefined ? {} : { responseUrlId }) };
    },

    async sendEventHttp(o) {
      const body = 'challenge' in o ? urlVerificationBody(o.challenge) : eventCallbackBody(workspace, o);
      const ack = await deliverToBot(target(o), signingSecret, JSON.stringify(body), 'application/json');
      return { ...ack, sent: body };
    },

    replayHttp: (request, timeoutMs) => sendToBot(request, timeoutMs),

    async sendSlashCommandSocket(o = {}) {
      const delivery = slashCommand(o);
      const ack = await socket.send('slash_commands', delivery.sent, {
        acceptsResponsePayload: true,
        ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
      });
      recordAck(delivery.responseUrlId, ack.payload);
      return { ...ack, ...delivery };
    },

    async sendInteractionSocket(o) {
      const payload = interactionPayload(o);
      // Slack accepts a response payload in the ack only where one means something.
      const accepts = payload['type'] === 'view_submission' || payload['type'] === 'block_suggestion';
      const ack = await socket.send('interactive', payload, {
        acceptsResponsePayload: accepts,
        ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
      });
      const responseUrlId = responseIdOf(payload);
      return { ...ack, sent: payload, ...(responseUrlId === undefined ? {} : { responseUrlId }) };
    },

    sendRawEnvelopeSocket(type, payload, o = {}) {
      return socket.send(type, payload, o);
    },

    async sendEventSocket(o) {
      const body = eventCallbackBody(workspace, o);
      const ack = await socket.send('events_api', body, {
        acceptsResponsePayload: false,
        extra: { retry_attempt: o.retry_attempt ?? 0, retry_reason: o.retry_reason ?? '' },
        ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
      });
      return { ...ack, sent: body };
    },

    disconnect: (o) => socket.disconnect(o),
    waitForConnections: (n, timeoutMs) => socket.waitForConnections(n, timeoutMs),
    openConnections: () => socket.openConnections,

    async close() {
      records.spill();
      process.off('exit', spillAtExit);
      await socket.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return standIn;
}
