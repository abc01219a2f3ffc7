/**
 * Pausing a ReplicationSource while its repository's locks are removed, so VolSync starts no mover
 * meanwhile (a paused source's mover Job is stopped too). Resuming must not be forgotten: the
 * caller resumes in `finally`, and a resume that fails is reported with the command that fixes it.
 *
 * A pause by the bot leaves a mark in the same patch: the annotation `backup-bot/paused-by`
 * ("U0ALICE at 2026-12-02T07:00:00Z (backup-bot --remove-all)"), which the resume removes in its
 * patch too. The backup watch reads it to say who paused a source and when (see pausedLine).
 */
import type { Kube } from '../kube/client.ts';
import { MERGE_PATCH, VOLSYNC, kubeErrorLine } from '../kube/client.ts';
import { untrustedLine } from '../reply.ts';
import { duration } from '../text.ts';

export const PAUSED_BY = 'backup-bot/paused-by';

/** The annotation's value: who (a Slack user ID, or the terminal user's name), when, and through what. */
export function pausedByValue(who: string, at: Date, how: string): string {
  return `${who.replace(/\s+/g, '_').slice(0, 100)} at ${at.toISOString().replace(/\.\d+Z$/, 'Z')} (${how.replace(/[()]/g, '').slice(0, 100)})`;
}

export interface PausedBy {
  who: string;
  at: number;
  how?: string;
}

export function parsePausedBy(value: string | undefined): PausedBy | undefined {
  const m = value ? /^(\S+) at (\S+)(?: \(([^()]*)\))?$/.exec(value) : null;
  const at = m ? Date.parse(m[2]!) : NaN;
  if (!m || Number.isNaN(at)) return undefined;
  return { who: m[1]!, at, ...(m[3] ? { how: m[3] } : {}) };
}

function patchBody(paused: boolean, by?: string): Record<string, unknown> {
  // Resuming removes the mark whoever set it: a stale one would name the wrong person for the next pause.
  return { spec: { paused }, metadata: { annotations: { [PAUSED_BY]: paused ? (by ?? null) : null } } };
}

export function pauseCommand(namespace: string, name: string, paused: boolean, by?: string): string {
  return `kubectl patch replicationsource ${name} -n ${namespace} --type merge -p '${JSON.stringify(patchBody(paused, by)).replace(/'/g, '')}'`;
}

/** Sets spec.paused; `by` (pausedByValue) marks a pause as the bot's, in the same patch. */
export async function setPaused(kube: Kube, namespace: string, name: string, paused: boolean, by?: string): Promise<void> {
  await kube.custom.patchNamespacedCustomObject(
    { group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources, namespace, name, body: patchBody(paused, by) },
    MERGE_PATCH,
  );
}

/**
 * Sets spec.paused: false, retrying a few times (the API server may blip). Resolves with undefined
 * on success, else with the one line saying why it failed.
 */
export async function resume(kube: Kube, namespace: string, name: string, opts: { attempts?: number; delayMs?: number } = {}): Promise<string | undefined> {
  const attempts = opts.attempts ?? 4;
  let last = '';
  for (let i = 0; i < attempts; i++) {
    try {
      await setPaused(kube, namespace, name, false);
      return undefined;
    } catch (err) {
      last = kubeErrorLine(err, `resume ReplicationSource ${namespace}/${name}`, kube);
      if (i < attempts - 1) await new Promise((r) => setTimeout(r, (opts.delayMs ?? 500) * (i + 1)));
    }
  }
  return last;
}

interface PausableSource {
  spec?: { paused?: boolean } | undefined;
  metadata?: { annotations?: Record<string, string> | undefined; managedFields?: Array<{ time?: string | Date; fieldsV1?: unknown }> | undefined } | undefined;
}

/** When spec.paused was last written, from the API server's managedFields (absent in the watch cache, which drops them). */
function pausedAtFromManagedFields(s: PausableSource): number | undefined {
  let best: number | undefined;
  for (const f of s.metadata?.managedFields ?? []) {
    const spec = (f.fieldsV1 as { 'f:spec'?: Record<string, unknown> } | undefined)?.['f:spec'];
    const at = f.time === undefined ? NaN : new Date(f.time).getTime();
    if (spec && 'f:paused' in spec && !Number.isNaN(at) && (best === undefined || at > best)) best = at;
  }
  return best;
}

/**
 * Who paused a source and when, for an incident's parent and thread (mrkdwn): "paused 3m ago by
 * <@U0ALICE> (backup-bot --remove-all)", "paused 2h ago (not by backup-bot)", or "paused (not by
 * backup-bot; when is not known)". `style: 'at'` gives the instant instead of the age (for a parent
 * that is not updated again). Undefined for a source that is not paused.
 */
export function pausedLine(s: PausableSource, now: number, opts: { at?: (ms: number) => string } = {}): string | undefined {
  if (s.spec?.paused !== true) return undefined;
  const when = (at: number) => (opts.at ? `since ${opts.at(at)}` : `${duration(Math.max(0, now - at))} ago`);
  const mark = parsePausedBy(s.metadata?.annotations?.[PAUSED_BY]);
  if (mark) {
    const who = /^[UW][A-Z0-9]{2,20}$/.test(mark.who) ? `<@${mark.who}>` : untrustedLine(mark.who, 100);
    return `paused ${when(mark.at)} by ${who}${mark.how ? ` (${untrustedLine(mark.how, 100)})` : ''}`;
  }
  const at = pausedAtFromManagedFields(s);
  return at !== undefined ? `paused ${when(at)} (not by backup-bot)` : 'paused (not by backup-bot; when is not known)';
}
