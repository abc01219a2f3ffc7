/**
 * Bolt receiver for HTTP mode, mounted on the bot's own listener at /slack/events. Every request
 * is verified (src/slack/verify.ts) before Bolt sees it; anything unverified is answered 401 and
 * logged, and never reaches a handler.
 */
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import type { Logger } from 'pino';
import type { HttpServer } from '../http/server.ts';
import { sendJson } from '../http/server.ts';
import type { Metrics } from '../metrics.ts';
import { verifySlackSignature } from './verify.ts';

export class VerifiedHttpReceiver implements Receiver {
  #app: App | undefined;
  #opts: { signingSecret: string; server: HttpServer; log: Logger; metrics?: Metrics; nowSeconds?: () => number };

  constructor(opts: { signingSecret: string; server: HttpServer; log: Logger; metrics?: Metrics; nowSeconds?: () => number }) {
    this.#opts = opts;
    opts.server.route('POST', '/slack/events', async (req, res, body) => {
      const header = (name: string) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      const verdict = verifySlackSignature({
        signingSecret: opts.signingSecret,
        signature: header('x-slack-signature'),
        timestamp: header('x-slack-request-timestamp'),
        body,
        nowSeconds: opts.nowSeconds?.() ?? Math.floor(Date.now() / 1000),
      });
      if (!verdict.ok) {
        opts.metrics?.slackRequestsRejected.inc({ reason: verdict.reason });
        opts.log.warn({ reason: verdict.reason, remote: req.socket.remoteAddress }, 'rejected an unverified request to /slack/events');
        sendJson(res, 401, { ok: false, error: 'request verification failed' });
        return;
      }
      let parsed: Record<string, unknown>;
      try {
        parsed = parseBody(header('content-type') ?? '', body);
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
        retryNum: Number(header('x-slack-retry-num') ?? 0) || undefined,
        retryReason: header('x-slack-retry-reason'),
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
    });
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
  if (contentType.startsWith('application/json')) return JSON.parse(text) as Record<string, unknown>;
  const form = Object.fromEntries(new URLSearchParams(text));
  if (typeof form.payload === 'string') return JSON.parse(form.payload) as Record<string, unknown>;
  return form;
}
