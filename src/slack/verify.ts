/**
 * Slack request verification: HMAC-SHA256 over `v0:<timestamp>:<body>` with the signing secret,
 * and a timestamp within 5 minutes of now in EITHER direction (Slack's rule; Bolt's own check only
 * rejects old ones, which lets a request signed for the future be replayed later). A signature is
 * accepted once: a captured request sent again inside the window is a replay (SeenSignatures).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const MAX_SKEW_SECONDS = 300;

export type RejectReason = 'missing-headers' | 'stale-timestamp' | 'future-timestamp' | 'bad-signature' | 'replayed';

export type VerifyResult = { ok: true } | { ok: false; reason: RejectReason };

/** The checks that need only the headers, so a request can be refused before its body is read. */
export function checkSlackHeaders(opts: { signature: string | undefined; timestamp: string | undefined; nowSeconds: number }): VerifyResult {
  const { signature, timestamp } = opts;
  if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'missing-headers' };
  const ts = Number(timestamp);
  if (opts.nowSeconds - ts > MAX_SKEW_SECONDS) return { ok: false, reason: 'stale-timestamp' };
  if (ts - opts.nowSeconds > MAX_SKEW_SECONDS) return { ok: false, reason: 'future-timestamp' };
  if (!/^v0=[0-9a-f]{64}$/.test(signature)) return { ok: false, reason: 'bad-signature' };
  return { ok: true };
}

export function verifySlackSignature(opts: {
  signingSecret: string;
  signature: string | undefined;
  timestamp: string | undefined;
  body: Buffer | string;
  nowSeconds: number;
}): VerifyResult {
  const headers = checkSlackHeaders(opts);
  if (!headers.ok) return headers;
  const hmac = createHmac('sha256', opts.signingSecret);
  hmac.update(`v0:${opts.timestamp}:`);
  hmac.update(opts.body);
  const expected = Buffer.from(`v0=${hmac.digest('hex')}`);
  const given = Buffer.from(opts.signature!);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' };
  return { ok: true };
}

/**
 * The signatures of verified requests, each kept until its timestamp leaves the 5-minute window
 * (after that the timestamp check refuses it anyway). Bounded: when `max` live signatures are held,
 * new requests are refused ('full', answered 503 so Slack retries) rather than a remembered one
 * forgotten, which would reopen it to replay.
 */
export class SeenSignatures {
  #seen = new Map<string, number>();
  #max: number;
  #prunedAt = 0;

  constructor(opts: { max?: number } = {}) {
    this.#max = opts.max ?? 100_000;
  }

  get size(): number {
    return this.#seen.size;
  }

  /** True when this signature was already accepted and is still inside its window. */
  has(signature: string, nowSeconds: number): boolean {
    const until = this.#seen.get(signature);
    return until !== undefined && until >= nowSeconds;
  }

  /** Records a verified request's signature; 'replayed' when it was accepted before. */
  remember(signature: string, timestampSeconds: number, nowSeconds: number): 'fresh' | 'replayed' | 'full' {
    if (this.has(signature, nowSeconds)) return 'replayed';
    if (this.#seen.size >= this.#max || nowSeconds - this.#prunedAt >= 60) this.#forgetExpired(nowSeconds);
    if (this.#seen.size >= this.#max) return 'full';
    this.#seen.set(signature, timestampSeconds + MAX_SKEW_SECONDS);
    return 'fresh';
  }

  #forgetExpired(nowSeconds: number): void {
    this.#prunedAt = nowSeconds;
    for (const [signature, until] of this.#seen) if (until < nowSeconds) this.#seen.delete(signature);
  }
}
