import { EventEmitter } from 'node:events';
import { noteSlackPayloads } from '../secrets-scan.ts';

// Everything the stand-in saw or did, kept in arrival order for assertions.

export type TokenKind = 'bot' | 'app' | 'unknown' | 'none';

export interface ApiCall {
  method: string;
  /** Request parameters with any `token` removed (secrets stay out of test output). */
  params: Record<string, unknown>;
  tokenKind: TokenKind;
  /** Epoch milliseconds when the request arrived. */
  at: number;
  status: number;
  response: Record<string, unknown>;
  /** Seconds, for HTTP 429 answers. */
  retryAfter?: number;
}

export interface MessageEdit {
  at: number;
  text: string;
  blocks?: unknown[];
  via: 'chat.update' | 'response_url';
}

export interface StoredMessage {
  channel: string;
  ts: string;
  /** Set on thread replies (and equal to `ts` on nothing: parents carry no thread_ts here). */
  thread_ts?: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  metadata?: unknown;
  user: string;
  bot_id?: string;
  reply_broadcast: boolean;
  via: 'chat.postMessage' | 'response_url';
  postedAt: number;
  edits: MessageEdit[];
  reactions: string[];
  deleted: boolean;
}

export interface EphemeralMessage {
  channel: string;
  user: string;
  /** Ephemeral messages get a ts too, but it names nothing stored in the channel. */
  ts: string;
  thread_ts?: string;
  text: string;
  blocks?: unknown[];
  via: 'chat.postEphemeral' | 'response_url' | 'ack';
  at: number;
}

/** What a user saw as the answer to a slash command or a button: an ack body or a response_url post. */
export interface UserResponse {
  via: 'ack' | 'response_url';
  /** The response_url id (`/response/<id>`) the interaction was given. */
  responseUrlId: string;
  interaction: 'slash_command' | 'block_actions' | 'view_submission' | 'other';
  channel?: string;
  user?: string;
  body: Record<string, unknown>;
  /** HTTP status the stand-in answered the response_url post with (200 for acks). */
  status: number;
  /** Block Kit errors; non-empty means Slack would have shown the user an error instead. */
  errors: string[];
  at: number;
}

export interface OpenedView {
  trigger_id: string;
  view: Record<string, unknown>;
  id: string;
  at: number;
}

export interface SentEnvelope {
  envelope_id: string;
  type: string;
  payload: Record<string, unknown>;
  sentAt: number;
  ack?: { envelope_id: string; payload?: unknown; at: number };
}

export class SlackRecords {
  readonly apiCalls: ApiCall[] = [];
  readonly ephemeralMessages: EphemeralMessage[] = [];
  readonly userResponses: UserResponse[] = [];
  readonly openedViews: OpenedView[] = [];
  readonly envelopes: SentEnvelope[] = [];
  readonly #byChannel = new Map<string, StoredMessage[]>();
  readonly #changes = new EventEmitter();

  constructor() {
    this.#changes.setMaxListeners(0);
  }

  changed(): void {
    this.#changes.emit('change');
  }

  addMessage(m: StoredMessage): void {
    const list = this.#byChannel.get(m.channel) ?? [];
    list.push(m);
    this.#byChannel.set(m.channel, list);
    this.changed();
  }

  findMessage(channel: string, ts: string): StoredMessage | undefined {
    return this.#byChannel.get(channel)?.find((m) => m.ts === ts);
  }

  /** Top-level messages of a channel (thread replies excluded unless broadcast), oldest first, without deleted ones. */
  messages(channel: string): StoredMessage[] {
    return (this.#byChannel.get(channel) ?? []).filter((m) => !m.deleted && (m.thread_ts === undefined || m.reply_broadcast));
  }

  /** Replies in the thread under `ts`, oldest first. */
  threadReplies(channel: string, ts: string): StoredMessage[] {
    return (this.#byChannel.get(channel) ?? []).filter((m) => !m.deleted && m.thread_ts === ts);
  }

  /** Every stored message (replies and deleted ones too), optionally of one channel. */
  allMessages(channel?: string): StoredMessage[] {
    if (channel !== undefined) return [...(this.#byChannel.get(channel) ?? [])];
    return [...this.#byChannel.values()].flat().sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  }

  calls(method?: string): ApiCall[] {
    return method === undefined ? [...this.apiCalls] : this.apiCalls.filter((c) => c.method === method);
  }

  /** Calls answered with HTTP 429. */
  rateLimited(method?: string): ApiCall[] {
    return this.calls(method).filter((c) => c.status === 429);
  }

  ephemerals(channel?: string): EphemeralMessage[] {
    return channel === undefined ? [...this.ephemeralMessages] : this.ephemeralMessages.filter((e) => e.channel === channel);
  }

  responses(responseUrlId?: string): UserResponse[] {
    return responseUrlId === undefined ? [...this.userResponses] : this.userResponses.filter((r) => r.responseUrlId === responseUrlId);
  }

  /**
   * Resolves with the predicate's first truthy value, re-checking whenever something is recorded
   * (and every 50 ms, for predicates that depend on time).
   */
  waitFor<T>(predicate: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<NonNullable<T>> {
    return new Promise((resolve, reject) => {
      let done = false;
      let checking = false;
      let again = false;
      const finish = (err: Error | undefined, value?: NonNullable<T>): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(poll);
        this.#changes.off('change', check);
        if (err) reject(err);
        else resolve(value as NonNullable<T>);
      };
      const check = (): void => {
        if (done) return;
        if (checking) {
          again = true;
          return;
        }
        checking = true;
        Promise.resolve()
          .then(predicate)
          .then(
            (value) => {
              checking = false;
              if (value) finish(undefined, value as NonNullable<T>);
              else if (again) {
                again = false;
                check();
              }
            },
            (err: unknown) => finish(err instanceof Error ? err : new Error(String(err))),
          );
      };
      const timer = setTimeout(
        () => finish(new Error(`Slack stand-in: ${what} not met within ${timeoutMs} ms; inspect standIn.calls() and standIn.allMessages() to see what the bot did`)),
        timeoutMs,
      );
      const poll = setInterval(check, 50);
      this.#changes.on('change', check);
      check();
    });
  }

  /** Hands everything the bot sent so far to the suite's secrets scan (test/harness/secrets-scan.ts). */
  spill(): void {
    noteSlackPayloads([
      ...this.apiCalls.map((c) => ({ method: c.method, params: c.params })),
      ...this.allMessages().map((m) => ({ text: m.text, blocks: m.blocks, attachments: m.attachments, metadata: m.metadata, edits: m.edits })),
      ...this.ephemeralMessages.map((e) => ({ text: e.text, blocks: e.blocks })),
      ...this.userResponses.map((r) => r.body),
      ...this.openedViews.map((v) => v.view),
      ...this.envelopes.filter((e) => e.ack?.payload !== undefined).map((e) => e.ack!.payload),
    ]);
  }

  reset(): void {
    this.spill();
    this.apiCalls.length = 0;
    this.ephemeralMessages.length = 0;
    this.userResponses.length = 0;
    this.openedViews.length = 0;
    this.envelopes.length = 0;
    this.#byChannel.clear();
    this.changed();
  }
}
