/**
 * Bolt receiver for HTTP mode, mounted on the bot's own listener at /slack/events. Every request
 * is verified (src/slack/verify.ts) before Bolt sees it: the signature headers and their freshness
 * before the body is read, the signature over the body after, and each signature only once (a
 * replayed request is refused). Anything unverified is answered 401 and logged, and never reaches
 * a handler.
 */
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import type { Logger } from 'pino';
import type { IncomingMessage } from 'node:http';
import type { HttpServer, Refusal } from '../http/server.ts';
import { sendJson } from '../http/server.ts';
import type { Metrics } from '../metrics.ts';
import { checkSlackHeaders, SeenSignatures, verifySlackSignature } from './verify.ts';
import type { RejectReason } from './verify.ts';

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
}

export class VerifiedHttpReceiver implements Receiver {
  #app: App | undefined;
  #opts: VerifiedHttpReceiverOptions;

  constructor(opts: VerifiedHttpReceiverOptions) {
    this.#opts = opts;
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
      let acked = false;
      const event: ReceiverEvent = {
        body: parsed,
        retryNum: Number(header(req, 'x-slack-retry-num') ?? 0) || undefined,
        retryReason: header(req, 'x-slack-retry-reason'),
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

  init(app: App): void {
    this.#app = app;
  }

  async start(): Promise<void> {
    // The shared listener is started by the composition root.
  }

  async stop(): Promise<void> {
    this.#app = undefined;
  }
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
