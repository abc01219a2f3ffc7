/**
 * Button values for the silence buttons: what to silence, for how long, and until when the
 * button may be clicked, signed with an HMAC so a click carries exactly what the bot posted. The
 * key is derived from the bot token, so buttons keep working across restarts and replicas.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The action ids of the alert threads' silence and unsilence buttons. */
export const SILENCE_ACTION = 'bb:alerts:silence';
export const UNSILENCE_ACTION = 'bb:alerts:unsilence';

export type SilenceKind = '1h' | '4h' | 'window';

export interface SilenceValue {
  k: SilenceKind;
  /** The labels the silence is scoped to (alertname, namespace, pod, container). */
  l: Record<string, string>;
  /** The button stops working at this instant (epoch seconds). */
  x: number;
  /** For "window": the silence ends here (epoch seconds), and the window's name. */
  e?: number;
  w?: string;
}

export interface UnsilenceValue {
  k: 'unsilence';
  /** Silence id. */
  s: string;
  l: Record<string, string>;
  x: number;
}

export type ButtonValue = SilenceValue | UnsilenceValue;

export type Decoded = { ok: true; value: ButtonValue } | { ok: false; reason: 'invalid' | 'expired'; expiredAt?: Date };

const MAC_BYTES = 16;

export class ButtonSigner {
  #key: Buffer;

  /** `secret`: the bot token (any stable secret); without one, a random key (buttons die with the process). */
  constructor(secret: string | undefined) {
    this.#key = secret
      ? createHmac('sha256', secret).update('backup-bot/alert-buttons/v1').digest()
      : randomBytes(32);
  }

  encode(v: ButtonValue): string {
    const body = Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
    return `${body}.${this.#mac(body)}`;
  }

  decode(value: string, now: Date): Decoded {
    const [body, mac, extra] = value.split('.');
    if (!body || !mac || extra !== undefined) return { ok: false, reason: 'invalid' };
    const expected = Buffer.from(this.#mac(body), 'base64url');
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'invalid' };
    let v: ButtonValue;
    try {
      v = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as ButtonValue;
    } catch {
      return { ok: false, reason: 'invalid' };
    }
    if (typeof v?.x !== 'number' || typeof v.l !== 'object' || v.l === null) return { ok: false, reason: 'invalid' };
    if (v.x * 1000 <= now.getTime()) return { ok: false, reason: 'expired', expiredAt: new Date(v.x * 1000) };
    return { ok: true, value: v };
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest().subarray(0, MAC_BYTES).toString('base64url');
  }
}

export const epochSeconds = (d: Date): number => Math.floor(d.getTime() / 1000);
