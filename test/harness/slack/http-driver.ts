import { signedHeaders, type SigningOverrides } from './request-signature.ts';

// Delivers a request to the bot's HTTP endpoint the way Slack does: signed, with Slack's content
// types, and giving up after 3 seconds (Slack then shows the user "operation_timeout").

export const HTTP_ACK_TIMEOUT_MS = 3000;

/** Exactly what went over the wire, so a test can send it again (a replay). */
export interface SentHttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface HttpAck {
  /** The request as sent (signature headers included). */
  request: SentHttpRequest;
  status: number;
  headers: Record<string, string>;
  /** The raw response body. */
  body: string;
  /** The body parsed as JSON when it is JSON. */
  json?: unknown;
  ackMs: number;
}

export interface DeliverOptions extends SigningOverrides {
  url: string;
  timeoutMs?: number;
  /** Extra headers, e.g. X-Slack-Retry-Num. */
  headers?: Record<string, string>;
}

export async function deliverToBot(
  o: DeliverOptions,
  defaultSecret: string,
  rawBody: string,
  contentType: 'application/x-www-form-urlencoded' | 'application/json',
): Promise<HttpAck> {
  // Exactly this content type: Bolt's HTTP receiver compares it verbatim.
  const headers = { 'Content-Type': contentType, ...signedHeaders(defaultSecret, rawBody, o), ...o.headers };
  return sendToBot({ url: o.url, headers, body: rawBody }, o.timeoutMs);
}

/** Sends a recorded request again, byte for byte and with its original signature, as an attacker who captured it would. */
export async function sendToBot(request: SentHttpRequest, timeoutMs = HTTP_ACK_TIMEOUT_MS): Promise<HttpAck> {
  const started = Date.now();
  let res: Response;
  try {
    res = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) {
      throw new Error(`Slack stand-in: the bot at ${request.url} did not answer within ${timeoutMs} ms; Slack would show the user a timeout. Ack before doing slow work.`);
    }
    throw new Error(`Slack stand-in: could not reach the bot at ${request.url} (${e instanceof Error ? e.message : String(e)}); is its HTTP receiver listening?`);
  }
  const body = await res.text();
  const ack: HttpAck = { request, status: res.status, headers: Object.fromEntries(res.headers.entries()), body, ackMs: Date.now() - started };
  if (body !== '') {
    try {
      ack.json = JSON.parse(body);
    } catch {
      // Not JSON: leave json undefined, the raw body is there.
    }
  }
  return ack;
}

export function formBody(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}
