import { createHmac } from 'node:crypto';

// Slack's request signing (v0): HMAC-SHA256 over `v0:<timestamp>:<raw body>` with the app's
// signing secret, sent as `X-Slack-Signature: v0=<hex>` next to `X-Slack-Request-Timestamp`.
export function signSlackRequest(signingSecret: string, timestampSeconds: number, rawBody: string): string {
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`v0:${timestampSeconds}:${rawBody}`);
  return `v0=${hmac.digest('hex')}`;
}

export interface SignedHeaders {
  'X-Slack-Signature': string;
  'X-Slack-Request-Timestamp': string;
}

export interface SigningOverrides {
  /** Defaults to the stand-in's signing secret; pass another to forge a bad signature. */
  signingSecret?: string;
  /** Seconds since the epoch; pass an old one to test replay protection. */
  timestamp?: number;
  /** Sent verbatim instead of the computed signature. */
  signature?: string;
}

export function signedHeaders(defaultSecret: string, rawBody: string, o: SigningOverrides = {}): SignedHeaders {
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = o.signature ?? signSlackRequest(o.signingSecret ?? defaultSecret, timestamp, rawBody);
  return { 'X-Slack-Signature': signature, 'X-Slack-Request-Timestamp': String(timestamp) };
}
