import { checkMessageContent, contentErrorBody, boolParam, stringParam } from './message-content.ts';
import type { SlackRecords, StoredMessage, UserResponse } from './records.ts';
import { urlToken, type SlackClock } from './slack-ids.ts';
import type { Workspace } from './workspace.ts';

// response_url: the webhook Slack hands out with every slash command and interaction. It works
// at most 5 times within 30 minutes and is not subject to chat.postMessage's per-channel limit.
// Unlike the Web API, it reports errors through HTTP status codes.

export const RESPONSE_URL_MAX_USES = 5;
export const RESPONSE_URL_TTL_MS = 30 * 60 * 1000;

export interface ResponseUrlContext {
  interaction: UserResponse['interaction'];
  channel?: string;
  user?: string;
  /** The message the interaction came from (block_actions), for replace_original / delete_original. */
  messageTs?: string;
  messageIsEphemeral?: boolean;
}

interface Issued extends ResponseUrlContext {
  id: string;
  issuedAt: number;
  uses: number;
}

export interface ResponseUrlReply {
  status: number;
  body: Record<string, unknown>;
}

export class ResponseUrls {
  readonly #issued = new Map<string, Issued>();
  readonly #records: SlackRecords;
  readonly #clock: SlackClock;
  readonly #workspace: Workspace;
  ttlMs = RESPONSE_URL_TTL_MS;
  maxUses = RESPONSE_URL_MAX_USES;

  constructor(records: SlackRecords, clock: SlackClock, workspace: Workspace) {
    this.#records = records;
    this.#clock = clock;
    this.#workspace = workspace;
  }

  issue(ctx: ResponseUrlContext): string {
    const id = urlToken();
    this.#issued.set(id, { ...ctx, id, issuedAt: Date.now(), uses: 0 });
    return id;
  }

  context(id: string): ResponseUrlContext | undefined {
    return this.#issued.get(id);
  }

  /** Records an ack body (HTTP response or Socket Mode ack payload) as what the user saw. */
  recordAck(id: string, body: Record<string, unknown>): UserResponse {
    const ctx = this.#issued.get(id);
    const check = checkMessageContent(body, false);
    const r: UserResponse = {
      via: 'ack',
      responseUrlId: id,
      interaction: ctx?.interaction ?? 'other',
      ...(ctx?.channel === undefined ? {} : { channel: ctx.channel }),
      ...(ctx?.user === undefined ? {} : { user: ctx.user }),
      body,
      status: 200,
      errors: check.ok ? [] : (check.errors ?? [check.error]),
      at: Date.now(),
    };
    this.#records.userResponses.push(r);
    if (check.ok && ctx !== undefined) this.#show(ctx, body, 'ack');
    this.#records.changed();
    return r;
  }

  post(id: string, rawBody: string, contentType: string | undefined): ResponseUrlReply {
    const issued = this.#issued.get(id);
    if (issued === undefined) return { status: 404, body: { ok: false, error: 'no_service' } };
    let body: Record<string, unknown>;
    try {
      if (!(contentType ?? '').startsWith('application/json')) throw new Error('not JSON');
      const parsed: unknown = JSON.parse(rawBody);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      return this.#record(issued, {}, { status: 400, body: { ok: false, error: 'invalid_payload' } }, []);
    }
    if (Date.now() - issued.issuedAt > this.ttlMs) {
      return this.#record(issued, body, { status: 404, body: { ok: false, error: 'expired_url' } }, []);
    }
    if (issued.uses >= this.maxUses) {
      return this.#record(issued, body, { status: 404, body: { ok: false, error: 'used_url' } }, []);
    }
    const deleting = boolParam(body['delete_original']);
    const check = checkMessageContent(body, !deleting);
    if (!check.ok) {
      return this.#record(issued, body, { status: 400, body: contentErrorBody(check) }, check.errors ?? [check.error]);
    }
    issued.uses += 1;
    this.#show(issued, body, 'response_url');
    return this.#record(issued, body, { status: 200, body: { ok: true } }, []);
  }

  #record(issued: Issued, body: Record<string, unknown>, reply: ResponseUrlReply, errors: string[]): ResponseUrlReply {
    this.#records.userResponses.push({
      via: 'response_url',
      responseUrlId: issued.id,
      interaction: issued.interaction,
      ...(issued.channel === undefined ? {} : { channel: issued.channel }),
      ...(issued.user === undefined ? {} : { user: issued.user }),
      body,
      status: reply.status,
      errors,
      at: Date.now(),
    });
    this.#records.changed();
    return reply;
  }

  // Applies the response the way a Slack client would display it.
  #show(ctx: ResponseUrlContext, body: Record<string, unknown>, via: 'ack' | 'response_url'): void {
    const channel = ctx.channel;
    if (channel === undefined) return;
    const original: StoredMessage | undefined =
      ctx.messageTs === undefined || ctx.messageIsEphemeral === true ? undefined : this.#records.findMessage(channel, ctx.messageTs);
    const text = stringParam(body['text']) ?? '';
    const blocks = Array.isArray(body['blocks']) ? (body['blocks'] as unknown[]) : undefined;
    if (via === 'response_url' && boolParam(body['delete_original'])) {
      if (original !== undefined) original.deleted = true;
      return;
    }
    if (via === 'response_url' && boolParam(body['replace_original']) && original !== undefined) {
      original.text = text;
      if (blocks !== undefined) original.blocks = blocks;
      else delete original.blocks;
      original.edits.push({ at: Date.now(), text, ...(blocks === undefined ? {} : { blocks }), via: 'response_url' });
      return;
    }
    if (via === 'ack' && text === '' && blocks === undefined) return; // an empty ack shows nothing
    const threadTs = stringParam(body['thread_ts']);
    if (body['response_type'] === 'in_channel') {
      const m: StoredMessage = {
        channel,
        ts: this.#clock.next(),
        text,
        user: this.#workspace.botUserId,
        bot_id: this.#workspace.botId,
        reply_broadcast: false,
        via: 'response_url',
        postedAt: Date.now(),
        edits: [],
        reactions: [],
        deleted: false,
      };
      if (threadTs !== undefined) m.thread_ts = threadTs;
      if (blocks !== undefined) m.blocks = blocks;
      this.#records.addMessage(m);
      return;
    }
    this.#records.ephemeralMessages.push({
      channel,
      user: ctx.user ?? '',
      ts: this.#clock.next(),
      ...(threadTs === undefined ? {} : { thread_ts: threadTs }),
      text,
      ...(blocks === undefined ? {} : { blocks }),
      via,
      at: Date.now(),
    });
  }
}
