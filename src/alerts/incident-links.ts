/**
 * One conversation per problem: an alert about a backup and the backup watch's incident about the
 * same source point at each other. The alert thread's backup diagnosis links the incident's thread;
 * the incident's thread gets one line linking the alert thread, once per alert group (the group's
 * thread record remembers it, src/alerts/thread-store.ts, so neither a restart nor another replica
 * posts it again). Cheap to load: the incident store is read only for an alert about a source.
 */
import type { Block, Reply } from '../reply.ts';
import { inlineCode, untrustedLine } from '../reply.ts';
import type { IncidentRecord, IncidentStore } from '../backup/incident-store.ts';
import type { PermalinkClient } from '../backup/thread-link.ts';
import { threadLink } from '../backup/thread-link.ts';
import { whenIn } from '../text.ts';

/** What the alert paths need of the backup watch's incidents. */
export interface IncidentLinks {
  /** The open incidents of these sources (`namespace/name`), by source. */
  openFor(sources: readonly string[]): Promise<Map<string, IncidentRecord>>;
  /** A link to a Slack thread (src/backup/thread-link.ts). */
  link(at: { channel: string; ts: string }, label: string): Promise<string>;
}

/** The links of the watch's store, drawn as Slack permalinks by `client`. */
export function incidentLinks(store: Pick<IncidentStore, 'all'>, client: PermalinkClient | undefined): IncidentLinks {
  return {
    openFor: async (sources) => openIncidentsFor(await store.all(), sources),
    link: (at, label) => threadLink(client, at, label),
  };
}

/** The source an incident is about: its id is `namespace/name/kind`. */
export function incidentSource(rec: Pick<IncidentRecord, 'id'>): string {
  return rec.id.split('/').slice(0, 2).join('/');
}

/** The incident threads open now for `sources`, from the store's records (the oldest open one per source). */
export function openIncidentsFor(records: readonly IncidentRecord[], sources: readonly string[]): Map<string, IncidentRecord> {
  const wanted = new Set(sources);
  const out = new Map<string, IncidentRecord>();
  for (const r of [...records].sort((a, b) => a.since - b.since)) {
    if (r.resolvedAt !== undefined || r.ts === '') continue;
    const src = incidentSource(r);
    if (wanted.has(src) && !out.has(src)) out.set(src, r);
  }
  return out;
}

/** How the alert thread's record remembers that an incident's thread was told (a new thread of the same incident id is told again). */
export function incidentNoteKey(rec: Pick<IncidentRecord, 'id' | 'ts'>): string {
  return `${rec.id}@${rec.ts}`;
}

/** The line in the alert thread: the incident about the same source, and its thread. */
export function incidentLinkBlock(rec: IncidentRecord, link: string, now: number): Block {
  const src = incidentSource(rec);
  const what = rec.what ?? rec.kind;
  return {
    type: 'section',
    text: `:link: The backup watch has an incident open for ${inlineCode(src, 120)}: ${what}${rec.headline ? ` — ${rec.headline}` : ''}, since ${whenIn(new Date(rec.since), 'UTC', new Date(now))}. The diagnosis and its follow-up are in its ${link}.`,
  };
}

/** The one line in the incident's thread: an alert about its source, and the alert's thread. */
export function alertNoteReply(alertname: string | undefined, link: string): Reply {
  const name = alertname ? inlineCode(alertname, 100) : 'An alert';
  const text = `:bell: Alertmanager: ${name} fired about this source; its ${link} has the alert's notifications.`;
  return { text: `Alertmanager: ${untrustedLine(alertname ?? 'an alert', 100)} fired about this source.`, blocks: [{ type: 'section', text }], visibility: 'channel' };
}
