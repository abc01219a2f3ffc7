/**
 * Bolt receiver for HTTP mode, mounted on the bot's own listener at /slack/events. Every request
 * is verified (src/slack/verify.ts) before Bolt sees it: the signature headers and their freshness
 * before the body is read, the signature over the body after, and each signature only once (a
 * replayed request is refused). Anything unverified is answered 401 and logged, and never reaches
 * a handler.
 *
 * A verified slash command or button click is acked at once and its work queued behind incoming
 * requests (src/slack/work-queue.ts), so no amount of command work delays an ack past Slack's 3
 * seconds. When the queue is full the user is told "busy, nothing was done". An event (a message
 * in a watched channel: perhaps a crash alert from another integration) is acked only once it has
 * been handed over, as before: Slack resends an event it was not acked for, so a bot stopped or
 * killed in between loses nothing, where a queued event acked early would be gone.
 */
import type { App, Receiver, ReceiverEvent, RespondArguments } from '@slack/bolt';
import type { Logger } from 'pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpServer, Refusal } from '../http/server.ts';
import { sendJson } from '../http/server.ts';
import type { Metrics } from '../metrics.ts';
import { checkSlackHeaders, SeenSignatures, verifySlackSignature } from './verify.ts';
import type { RejectReason } from './verify.ts';
import { WorkQueue } from './work-queue.ts';
import type { WorkQueueOptions } from './work-queue.ts';
import { isResponseUrl, retryingRespond } from './respond.ts';
import type { Respond } from './respond.ts';
import { renderBlocks } from './render-blocks.ts';
import { errorReply } from '../reply.ts';

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

export interface VerifiedHttpReceiverOptions {
  signingSecret: string;
  server: HttpServer;
  log: Logger;
  metrics?: Metrics;
  nowSeconds?: () => number;
  /** Signatures already accepted (default: a new SeenSignatures). */
  seen?: SeenSignatures;
  /** Bounds of the queue the work behind acked requests waits in. */
  work?: Pick<WorkQueueOptions, 'concurrency' | 'backlog'>;
  /** How the receiver itself answers through a response_url (busy, restarting; default retryingRespond). */
  respond?: (responseUrl: string) => Respond;
}

export class VerifiedHttpReceiver implements Receiver {
  #app: App | undefined;
  #opts: VerifiedHttpReceiverOptions;
  #queue: WorkQueue;
  #respond: (responseUrl: string) => Respond;

  constructor(opts: VerifiedHttpReceiverOptions) {
    this.#opts = opts;
    this.#queue = new WorkQueue({ ...opts.work, onError: (err) => opts.log.error({ err }, 'queued Slack work failed') });
    this.#respond = opts.respond ?? ((url) => retryingRespond(url));
    const seen = opts.seen ?? new SeenSignatures();
    const now = () => opts.nowSeconds?.() ?? Math.floor(Date.now() / 1000);
    const reject = (req: IncomingMessage, reason: RejectReason): Refusal => {
      opts.metrics?.slackRequestsRejected.inc({ reason });
      opts.log.warn({ reason, remote: req.socket.remoteAddress }, 'rejected an unverified request to /slack/events');
      return { status: 401, error: 'request verification failed' };
    };
    // Headers first: without fresh signature headers, or with a signature already used, the body is never read.
    const authorize = (req: IncomingMessage): Refusal | undefined => {
      const signature = header(req, 'x-slack-signature');
      const verdict = checkSlackHeaders({ signature, timestamp: header(req, 'x-slack-request-timestamp'), nowSeconds: now() });
      if (!verdict.ok) return reject(req, verdict.reason);
      if (seen.has(signature!, now())) return reject(req, 'replayed');
      return undefined;
    };
    opts.server.route('POST', '/slack/events', async (req, res, body) => {
      const signature = header(req, 'x-slack-signature');
      const timestamp = header(req, 'x-slack-request-timestamp');
      const verdict = verifySlackSignature({ signingSecret: opts.signingSecret, signature, timestamp, body, nowSeconds: now() });
      if (!verdict.ok) {
        const r = reject(req, verdict.reason);
        sendJson(res, r.status, { ok: false, error: r.error });
        return;
      }
      // Remembered only once verified, so unsigned requests cannot fill the table.
      const seenBefore = seen.remember(signature!, Number(timestamp), now());
      if (seenBefore === 'replayed') {
        const r = reject(req, 'replayed');
        sendJson(res, r.status, { ok: false, error: r.error });
        return;
      }
      if (seenBefore === 'full') {
        opts.log.warn({ remembered: seen.size }, 'too many Slack requests inside the replay window to remember; answered 503 so Slack retries');
        sendJson(res, 503, { ok: false, error: 'busy; retry' }, { 'retry-after': '5' });
        return;
      }
      let parsed: Record<string, unknown>;
      try {
        parsed = parseBody(header(req, 'content-type') ?? '', body);
      } catch {
        sendJson(res, 400, { ok: false, error: 'unreadable body' });
        return;
      }
      if (parsed.type === 'url_verification' && typeof parsed.challenge === 'string') {
        sendJson(res, 200, { challenge: parsed.challenge });
        return;
      }
      if (!this.#app) {
        sendJson(res, 503, { ok: false, error: 'not started' });
        return;
      }
      const kind = deferredKind(parsed);
      if (kind !== undefined) {
        this.#deferred(kind, parsed, req, res);
        return;
      }
      let acked = false;
      const event: ReceiverEvent = {
        body: parsed,
        ...retryOf(req),
        customProperties: {},
        ack: async (response?: unknown) => {
          if (acked) return;
          acked = true;
          if (response === undefined || response === '') {
            res.writeHead(200);
            res.end();
          } else if (typeof response === 'string') {
            res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
            res.end(response);
          } else {
            sendJson(res, 200, response);
          }
        },
      };
      try {
        await this.#app.processEvent(event);
      } catch (err) {
        opts.log.error({ err }, 'Slack event processing failed');
        if (!acked) {
          acked = true;
          sendJson(res, 500, { ok: false });
        }
        return;
      }
      // No listener acknowledged (an event type we do not handle): tell Slack it arrived.
      if (!acked) await event.ack();
    }, { authorize });
  }

  /**
   * A slash command, a button click or an event: acked 200 now, its work queued (see WorkQueue).
   * None of the bot's listeners answers in the ack body; should one ack with a body later, it goes
   * to the request's response_url instead, which Slack shows the same way.
   */
  #deferred(kind: DeferredKind, body: Record<string, unknown>, req: IncomingMessage, res: ServerResponse): void {
    const app = this.#app!;
    const { log, metrics } = this.#opts;
    const responseUrl = isResponseUrl(body.response_url) ? body.response_url : undefined;
    if (!this.#queue.hasRoom()) {
      metrics?.slackWorkRefused.inc({ kind, reason: 'busy' });
      log.warn({ kind, waiting: this.#queue.waiting, running: this.#queue.running }, 'too much Slack work queued; refused one request with "busy"');
      if (kind === 'command') {
        sendJson(res, 200, { response_type: 'ephemeral', ...renderBlocks(errorReply(BUSY_COMMAND)) });
      } else {
        res.writeHead(200);
        res.end();
        void this.#tell(responseUrl, BUSY_CLICK);
      }
      return;
    }
    res.writeHead(200);
    res.end();
    const event: ReceiverEvent = {
      body,
      ...retryOf(req),
      customProperties: {},
      ack: async (response?: unknown) => {
        if (response === undefined || response === '') return;
        if (!responseUrl) {
          log.warn({ kind }, 'a listener answered in the ack after it was sent, and the request has no response_url; the answer is lost');
          return;
        }
        await this.#respond(responseUrl)(typeof response === 'string' ? { text: response } : (response as RespondArguments));
      },
    };
    this.#queue.offer({
      run: async () => {
        try {
          await app.processEvent(event);
        } catch (err) {
          log.error({ err, kind }, 'Slack event processing failed');
        }
      },
      abandon: async () => {
        metrics?.slackWorkRefused.inc({ kind, reason: 'stopping' });
        await this.#tell(responseUrl, kind === 'command' ? STOPPING_COMMAND : STOPPING_CLICK);
      },
    });
  }

  /** An error line to the user through response_url; a failure to say it is logged, not thrown. */
  async #tell(responseUrl: string | undefined, line: string): Promise<void> {
    if (!responseUrl) return;
    await this.#respond(responseUrl)({ response_type: 'ephemeral', replace_original: false, ...renderBlocks(errorReply(line)) })
      .catch((err: unknown) => this.#opts.log.warn({ err: (err as Error).message }, 'could not tell the user their request was not run'));
  }

  /** Items waiting or running (for tests and the bench). */
  get work(): WorkQueue {
    return this.#queue;
  }

  init(app: App): void {
    this.#app = app;
  }

  async start(): Promise<void> {
    // The shared listener is started by the composition root.
  }

  async stop(): Promise<void> {
    this.#app = undefined;
    await this.#queue.stop();
  }
}

const BUSY_COMMAND = 'I am busy with too many requests and did not run this command. Nothing was done; try again in a minute.';
const BUSY_CLICK = 'I am busy with too many requests and did not act on this click. Nothing was done; click again in a minute.';
const STOPPING_COMMAND = 'I was restarting and did not run this command. Nothing was done; try again in a minute.';
const STOPPING_CLICK = 'I was restarting and did not act on this click. Nothing was done; click again in a minute.';

type DeferredKind = 'command' | 'click';

/**
 * What can be acked before its work runs: slash commands and button clicks (whose answers go
 * through response_url) and events (acked empty by Bolt anyway). View submissions, option loads
 * and shortcuts answer in the ack body and go through Bolt as before.
 */
function deferredKind(body: Record<string, unknown>): DeferredKind | undefined {
  if (typeof body.command === 'string') return 'command';
  if (body.type === 'block_actions') return 'click';
  return undefined;
}

function retryOf(req: IncomingMessage): Pick<ReceiverEvent, 'retryNum' | 'retryReason'> {
  return { retryNum: Number(header(req, 'x-slack-retry-num') ?? 0) || undefined, retryReason: header(req, 'x-slack-retry-reason') };
}

/** Slash commands and interactions arrive form-encoded (interactions as a JSON `payload` field); events as JSON. */
export function parseBody(contentType: string, body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8');
  if (contentType.startsWith('application/json')) return jsonObject(text);
  const form = Object.fromEntries(new URLSearchParams(text));
  if (typeof form.payload === 'string') return jsonObject(form.payload);
  return form;
}

/** Valid JSON that is not an object (`null`, `1`, `[]`) is as unreadable as invalid JSON. */
function jsonObject(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SyntaxError('the body is JSON but not an object');
  return value as Record<string, unknown>;
}
