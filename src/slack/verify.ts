/**
 * Slack request verification: HMAC-SHA256 over `v0:<timestamp>:<body>` with the signing secret,
 * and a timestamp within 5 minutes of now in EITHER direction (Slack's rule; Bolt's own check only
 * rejects old ones, which lets a request signed for the future be replayed later).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const MAX_SKEW_SECONDS = 300;

export type VerifyResult = { ok: true } | { ok: false; reason: 'missing-headers' | 'stale-timestamp' | 'future-timestamp' | 'bad-signature' };

export function verifySlackSignature(opts: {
  signingSecret: string;
  signature: string | undefined;
  timestamp: string | undefined;
  body: Buffer | string;
  nowSeconds: number;
}): VerifyResult {
  const { signature, timestamp } = opts;
  if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'missing-headers' };
  const ts = Number(timestamp);
  if (opts.nowSeconds - ts > MAX_SKEW_SECONDS) return { ok: false, reason: 'stale-timestamp' };
  if (ts - opts.nowSeconds > MAX_SKEW_SECONDS) return { ok: false, reason: 'future-timestamp' };
  const hmac = createHmac('sha256', opts.signingSecret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(opts.body);
  const expected = Buffer.from(`v0=${hmac.digest('hex')}`);
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' };
  return { ok: true };
}
