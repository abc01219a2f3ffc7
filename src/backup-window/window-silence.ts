/**
 * The Alertmanager silence a `mute` window owns for one instance, and how the bot recognises its
 * own silences after a restart: the comment carries
 * `[backup-bot window=<instance id> cfg=<config hash>]`, which findOwned() searches for.
 */
import type { Matcher } from '../alerts/alertmanager-types.ts';
import type { CreateSilence } from '../alerts/silences.ts';
import type { WindowInstance } from '../window/index.ts';
import type { WindowSettings } from './window-settings.ts';
import { configHash } from './window-settings.ts';
import { timeRange as windowRange } from '../text.ts';

/** Every window silence's comment contains this; the alerts pipeline's own silences use "[backup-bot:". */
export const WINDOW_MARKER_PREFIX = '[backup-bot window=';
export const SILENCE_CREATED_BY = 'backup-bot';

export function windowMarker(instanceId: string, cfg: string): string {
  return `${WINDOW_MARKER_PREFIX}${instanceId} cfg=${cfg}]`;
}

/** The instance id and config hash in a silence comment, if it is one of ours. */
export function parseWindowMarker(comment: string): { instanceId: string; window: string; cfg: string } | undefined {
  const m = /\[backup-bot window=(([^\s@\]]+)@[^\s\]]+) cfg=([0-9a-f]+)\]/.exec(comment);
  return m ? { instanceId: m[1]!, window: m[2]!, cfg: m[3]! } : undefined;
}

/** RE2 and JavaScript agree on this escaping for the characters a namespace or alert name can hold. */
function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The silence's matchers; it always names its namespaces, so it never mutes a tenant's pod of the same name. */
export function windowMatchers(w: WindowSettings): Matcher[] {
  if (w.namespaces.length === 0) throw new Error(`window ${w.name} has no namespaces: refusing a silence for every namespace`);
  return [
    { name: 'alertname', value: w.alertNames.map(escapeRegex).join('|'), isRegex: true, isEqual: true },
    // Grouped so a pattern with its own "|" cannot widen its neighbours; Alertmanager anchors the whole value.
    { name: 'pod', value: w.transientPods.map((p) => `(?:${p})`).join('|'), isRegex: true, isEqual: true },
    { name: 'namespace', value: w.namespaces.map(escapeRegex).join('|'), isRegex: true, isEqual: true },
  ];
}

/** The silence for `instance`: from now until the end of its grace period. */
export function windowSilence(w: WindowSettings, instance: WindowInstance, now: Date): CreateSilence {
  const marker = windowMarker(instance.id, configHash(w));
  return {
    matchers: windowMatchers(w),
    startsAt: now,
    endsAt: instance.graceEnd,
    createdBy: SILENCE_CREATED_BY,
    comment: `Backup window ${w.name} (${windowRange(instance, w.zone)}): known-transient crash loops of ${w.transientPods.join(', ')} are expected and muted until the grace period ends. Managed by backup-bot: it expires this silence when the window closes or its configuration changes. ${marker}`,
  };
}
