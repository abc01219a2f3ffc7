import { randomBytes, randomInt } from 'node:crypto';

// Slack message timestamps are both the message's time and its id ("1700000000.000100"), and two
// messages in a channel never share one: keep them strictly increasing even within a microsecond.
export class SlackClock {
  #lastMicros = 0n;

  next(): string {
    const now = BigInt(Date.now()) * 1000n;
    const micros = now > this.#lastMicros ? now : this.#lastMicros + 1n;
    this.#lastMicros = micros;
    const seconds = micros / 1_000_000n;
    const fraction = (micros % 1_000_000n).toString().padStart(6, '0');
    return `${seconds}.${fraction}`;
  }
}

export function tsToMillis(ts: string): number {
  return Math.floor(Number(ts) * 1000);
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

// Slack ids are a one-letter kind prefix and upper-case alphanumerics (C…, U…, V…).
export function slackId(prefix: string, length = 10): string {
  let id = prefix;
  for (let i = 0; i < length; i += 1) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

export function envelopeId(): string {
  return `${randomBytes(4).toString('hex')}-${randomBytes(2).toString('hex')}-${randomBytes(2).toString('hex')}-${randomBytes(2).toString('hex')}-${randomBytes(6).toString('hex')}`;
}

export function triggerId(): string {
  return `${randomInt(1e9, 1e10)}.${randomInt(1e9, 1e10)}.${randomBytes(16).toString('hex')}`;
}

export function urlToken(): string {
  return randomBytes(12).toString('hex');
}
