/**
 * Channel-watch mode: crash-loop alerts that another integration (Alertmanager's own Slack
 * receiver) posts in alerts.watchChannels get the same diagnosis, as a reply in their thread.
 * Registered on the Bolt app as a `message` event listener; needs the bot in those channels
 * and the channels:history (groups:history for private ones) scope with the message events.
 */
import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import type { ChannelPoster } from '../slack/poster.ts';
import { renderBlocks } from '../slack/render-blocks.ts';
import type { Kube } from '../kube/client.ts';
import type { Block } from '../reply.ts';
import type { Diagnosing } from './diagnoser.ts';
import type { AlertHooks, CrashAlertEvent } from './hooks.ts';
import type { WatchTarget } from './watch-parse.ts';
import { extractTargets, messageText } from './watch-parse.ts';
import { alertKey } from './thread-store.ts';

export interface WatchOptions {
  app: App;
  channels: readonly string[];
  pattern: RegExp;
  diagnoser: Diagnosing;
  poster: ChannelPoster;
  kube?: Kube;
  log: Logger;
  /** The same hooks as webhook threads; events carry groupKey `slack:<channel>:<ts>`. */
  hooks?: () => readonly AlertHooks[];
  /** Pods diagnosed per message (default 3). */
  maxTargets?: number;
}

export interface WatchedMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  subtype?: string;
  bot_id?: string;
  user?: string;
  text?: string;
  attachments?: unknown[];
  blocks?: unknown[];
}

/** Messages we leave alone: other channels, edits and deletions, people (only integrations post alerts), ourselves. */
export function shouldAnnotate(m: WatchedMessage, channels: readonly string[], ownBotId: string | undefined): boolean {
  if (!channels.includes(m.channel)) return false;
  if (m.subtype !== undefined && m.subtype !== 'bot_message') return false;
  if (!m.bot_id) return false;
  if (ownBotId && m.bot_id === ownBotId) return false;
  return true;
}

/** The pattern's own match when it reads like an alert name, e.g. KubePodCrashLooping. */
function alertnameFrom(text: string, pattern: RegExp): string | undefined {
  const m = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(text);
  const word = m?.[0];
  return word && /^[A-Z][A-Za-z0-9_]*(CrashLooping|Crashlooping)$/.test(word) ? word : undefined;
}

async function resolveNamespace(kube: Kube | undefined, t: WatchTarget, log: Logger): Promise<string | undefined> {
  if (t.namespace) return t.namespace;
  if (!kube) return undefined;
  try {
    // One cluster-wide lookup by name: the message named the pod but not its namespace.
    const list = await kube.core.listPodForAllNamespaces({ fieldSelector: `metadata.name=${t.pod}`, limit: 2 });
    return list.items.length === 1 ? list.items[0]!.metadata?.namespace : undefined;
  } catch (err) {
    log.debug({ err: (err as Error).message }, 'could not look up a watched alert\'s pod by name');
    return undefined;
  }
}

export function watchChannels(o: WatchOptions): { handle: (m: WatchedMessage) => Promise<number> } {
  const seen = new Set<string>();
  let ownBotId: string | undefined;
  let ownBotIdAsked = false;

  const handle = async (m: WatchedMessage): Promise<number> => {
    if (!ownBotIdAsked) {
      ownBotIdAsked = true;
      try {
        ownBotId = (await o.app.client.auth.test()).bot_id as string | undefined;
      } catch {
        // Bolt's own ignoreSelf still applies.
      }
    }
    if (!shouldAnnotate(m, o.channels, ownBotId)) return 0;
    const text = messageText(m);
    if (!o.pattern.test(text)) return 0;
    // Slack redelivers events it thinks were not acknowledged.
    const key = `${m.channel}:${m.ts}`;
    if (seen.has(key)) return 0;
    seen.add(key);
    if (seen.size > 5000) seen.delete(seen.values().next().value!);

    const targets = extractTargets(text, o.maxTargets ?? 3);
    if (targets.length === 0) {
      o.log.info({ channel: m.channel, ts: m.ts }, 'a watched crash-loop alert names no pod I can read; not annotating it');
      return 0;
    }
    const fallbackAlertname = alertnameFrom(text, o.pattern);
    let posted = 0;
    for (const t of targets) {
      const namespace = await resolveNamespace(o.kube, t, o.log);
      if (!namespace) {
        o.log.info({ pod: t.pod }, 'a watched crash-loop alert names a pod without its namespace, and no single pod of that name was found');
        continue;
      }
      const labels: Record<string, string> = { namespace, pod: t.pod };
      if (t.container) labels['container'] = t.container;
      const alertname = t.alertname ?? fallbackAlertname;
      if (alertname) labels['alertname'] = alertname;
      const threadTs = m.thread_ts ?? m.ts;
      const event: CrashAlertEvent = {
        groupKey: `slack:${m.channel}:${threadTs}`,
        channel: m.channel,
        threadTs,
        status: 'firing',
        labels,
        startsAt: new Date(Number(m.ts) * 1000 || Date.now()).toISOString(),
        // The same key the window state records it under (long pod names are hashed).
        fingerprint: alertKey(`slack:${namespace}/${t.pod}/${t.container ?? ''}`),
        receivedAt: new Date(),
      };
      const lead: Block[] = [];
      for (const h of o.hooks?.() ?? []) {
        try {
          lead.push(...((await h.annotate?.(event)) ?? []));
        } catch (err) {
          o.log.warn({ err: (err as Error).message }, 'an alert annotate hook failed; posting the diagnosis without it');
        }
      }
      const r = await o.diagnoser.diagnose({ namespace, pod: t.pod, ...(t.container ? { container: t.container } : {}), labels, lead });
      await o.poster.post({ channel: m.channel, thread_ts: threadTs, ...renderBlocks(r), unfurl_links: false });
      posted++;
      for (const h of o.hooks?.() ?? []) {
        try {
          h.observed?.(event);
        } catch (err) {
          o.log.warn({ err: (err as Error).message }, 'an alert observed hook failed');
        }
      }
    }
    return posted;
  };

  o.app.event('message', async ({ event }) => {
    const m = event as unknown as WatchedMessage;
    // Do the work after the listener returns: Slack wants its ack within 3 seconds.
    void handle(m).catch((err: unknown) => {
      o.log.error({ err: (err as Error).message, channel: m.channel }, 'could not annotate a watched crash-loop alert');
    });
  });
  return { handle };
}
