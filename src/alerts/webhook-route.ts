/**
 * POST /alertmanager: Alertmanager's webhook (payload version 4), bearer-token protected.
 * 2xx only once the notification is queued; 503 when the queue is full or the bot is stopping,
 * which Alertmanager retries, so nothing is dropped.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { HttpServer, Refusal } from '../http/server.ts';
import { sendJson } from '../http/server.ts';
import { webhookPayloadSchema } from './alertmanager-types.ts';
import type { WebhookPayload } from './alertmanager-types.ts';
import type { OfferResult } from './notification-queue.ts';

export const WEBHOOK_PATH = '/alertmanager';
/** A group of a few thousand alerts fits; set max_alerts on the receiver for larger ones. */
export const WEBHOOK_MAX_BODY = 5 * 1024 * 1024;
/** At most this many webhook bodies in memory at once (40 MiB at the largest); Alertmanager retries a 503. */
export const WEBHOOK_MAX_CONCURRENT_UPLOADS = 8;

export type WebhookOutcome = 'queued' | 'unauthorized' | 'invalid' | 'full' | 'stopping';

export interface WebhookOptions {
  server: HttpServer;
  token: string | undefined;
  log: Logger;
  offer(p: WebhookPayload, receivedAt: Date): OfferResult;
  /** True while the bot is shutting down: answer 503 so Alertmanager retries elsewhere or later. */
  stopping?: () => boolean;
  onOutcome?: (o: WebhookOutcome) => void;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time check of `Authorization: Bearer <token>` (hashing first makes the lengths equal). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  const given = m?.[1] ?? '';
  return timingSafeEqual(digest(given), digest(token)) && given.length > 0;
}

/** One short line naming the first problems in a payload, e.g. `alerts[0].fingerprint: expected string`. */
export function payloadProblem(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues.slice(0, 3).map((i) => {
    const path = i.path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
    return `${path || '(body)'}: ${i.message}`.slice(0, 160);
  }).join('; ');
}

/** Mounts the route; returns false (and logs why) when no token is configured. */
export function mountWebhook(opts: WebhookOptions): boolean {
  const { server, token, log } = opts;
  if (!token) {
    log.warn(`ALERTMANAGER_WEBHOOK_TOKEN is not set, so POST ${WEBHOOK_PATH} is not mounted: an unauthenticated webhook would let anyone post into the alert channels. Set it, and the same value as the bearer credentials of Alertmanager's webhook receiver.`);
    return false;
  }
  const outcome = (o: WebhookOutcome) => opts.onOutcome?.(o);
  // The token is checked on the headers, before the server reads a byte of the body.
  const authorize = (req: IncomingMessage): Refusal | undefined => {
    if (bearerMatches(req.headers.authorization, token)) return undefined;
    outcome('unauthorized');
    log.warn({ remote: req.socket.remoteAddress }, `rejected a request to ${WEBHOOK_PATH} without the right bearer token`);
    return { status: 401, error: 'missing or wrong bearer token', headers: { 'www-authenticate': 'Bearer' } };
  };
  server.route('POST', WEBHOOK_PATH, (_req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    if (opts.stopping?.()) {
      outcome('stopping');
      sendJson(res, 503, { ok: false, error: 'shutting down; retry' }, { 'retry-after': '5' });
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(body.toString('utf8'));
    } catch {
      outcome('invalid');
      sendJson(res, 400, { ok: false, error: 'body is not JSON' });
      return;
    }
    const parsed = webhookPayloadSchema.safeParse(raw);
    if (!parsed.success) {
      outcome('invalid');
      const why = payloadProblem(parsed.error.issues);
      log.warn({ problem: why }, `rejected an Alertmanager webhook payload that is not version 4`);
      sendJson(res, 400, { ok: false, error: `not an Alertmanager webhook payload (version 4): ${why}` });
      return;
    }
    const result = opts.offer(parsed.data, new Date());
    if (!result.accepted) {
      outcome('full');
      log.warn({ depth: result.depth, full: result.full, groupKey: parsed.data.groupKey.slice(0, 200) }, 'alert queue is full; answered 503 so Alertmanager retries');
      sendJson(res, 503, { ok: false, error: 'alert queue is full; retry later' }, { 'retry-after': '5' });
      return;
    }
    if (result.truncated) {
      log.warn({ truncated: result.truncated, alerts: parsed.data.alerts.length, groupKey: parsed.data.groupKey.slice(0, 200) },
        'an alert group is larger than the whole alert queue; the alerts beyond it are counted as truncated. Set max_alerts on the Alertmanager webhook receiver, or raise alerts.queueCapacity');
    }
    outcome('queued');
    sendJson(res, 200, { ok: true, queued: result.depth });
  }, { maxBody: WEBHOOK_MAX_BODY, maxConcurrentUploads: WEBHOOK_MAX_CONCURRENT_UPLOADS, authorize });
  return true;
}
