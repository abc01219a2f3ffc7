/**
 * Every mutating action leaves one audit record: who asked, who confirmed, what ran, the outcome.
 * Records go to the JSON log (`audit: true`, easy to ship and grep) and to whoever else listens.
 */
import type { Logger } from 'pino';
import type { Actor } from './command/context.ts';

export interface AuditRecord {
  actor: Actor;
  action: string;
  target: string;
  channel?: string;
  confirmedBy?: Actor[];
  ran?: string[];
  outcome: 'requested' | 'denied' | 'confirmed' | 'cancelled' | 'expired' | 'succeeded' | 'failed' | 'refused';
  detail?: string;
}

export class AuditLog {
  #log: Logger;
  #listeners: Array<(r: AuditRecord & { at: string }) => void> = [];

  constructor(log: Logger) {
    this.#log = log.child({ audit: true });
  }

  record(r: AuditRecord): void {
    const entry = { ...r, at: new Date().toISOString() };
    this.#log.info({
      who: r.actor.id, via: r.actor.via, action: r.action, target: r.target, channel: r.channel,
      confirmedBy: r.confirmedBy?.map((a) => a.id), ran: r.ran, outcome: r.outcome, detail: r.detail,
    }, `audit: ${r.action} ${r.target} ${r.outcome}`);
    for (const l of this.#listeners) l(entry);
  }

  onRecord(listener: (r: AuditRecord & { at: string }) => void): void {
    this.#listeners.push(listener);
  }
}
