import { triggerId } from './slack-ids.ts';

// A trigger_id lets an app open a modal, once, within 3 seconds of the user's action.
export class TriggerIds {
  readonly #issued = new Map<string, { at: number; used: boolean }>();
  ttlMs: number;

  constructor(ttlMs = 3000) {
    this.ttlMs = ttlMs;
  }

  issue(): string {
    const id = triggerId();
    this.#issued.set(id, { at: Date.now(), used: false });
    return id;
  }

  /** Slack's error code for this trigger_id, or undefined when it may be used (and marks it used). */
  consume(id: string, now = Date.now()): 'invalid_trigger_id' | 'expired_trigger_id' | 'exchanged_trigger_id' | undefined {
    const t = this.#issued.get(id);
    if (t === undefined) return 'invalid_trigger_id';
    if (now - t.at > this.ttlMs) return 'expired_trigger_id';
    if (t.used) return 'exchanged_trigger_id';
    t.used = true;
    return undefined;
  }
}
