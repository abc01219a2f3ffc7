/**
 * The backup watch's detection, pure: from an Inventory, a clock and the watch settings, the
 * problems that are incidents now, one per (source, kind). This is the watch's one home for
 * "what is broken"; the verdict per source comes from source-health.ts (the same one /backup
 * status prints), so the watch and the status never disagree about a source. Only what the
 * watch adds lives here: its own thresholds (watch.overdueGraceMinutes, stuckMinutes,
 * unprotectedGraceMinutes), which problems a source has, since when, and ignore rules.
 *
 * Precedence per source: failing and stuck explain an overdue source, so a source that is
 * failing or stuck is not also reported overdue (its overdue facts go into that incident).
 */
import type { Config } from '../config.ts';
import { cronSchedule } from './cron-schedule.ts';
import type { Inventory } from './inventory.ts';
import type { Pvc } from './objects.ts';
import { condition, ms, nameOf, namespaceOf } from './objects.ts';
import { parseLabel } from './doctor.ts';
import type { SourceHealth } from './source-health.ts';
import { evaluateSource, indexInventory, podPhase, podSince } from './source-health.ts';
import { duration as humanDuration } from '../text.ts';
import { inlineCode, untrustedLine } from '../reply.ts';

export type ProblemKind = 'failing' | 'stuck' | 'overdue' | 'unprotected';
export const PROBLEM_KINDS: readonly ProblemKind[] = ['failing', 'stuck', 'overdue', 'unprotected'];

export interface WatchSettings {
  overdueGraceMs: number;
  stuckMs: number;
  unprotectedGraceMs: number;
  ignore: ReadonlyArray<{ namespace: string; name?: string | undefined }>;
  /** backups.pvcLabel, "key=value". */
  pvcLabel: string;
}

export function watchSettings(config: Pick<Config, 'watch' | 'backups'>): WatchSettings {
  const w = config.watch;
  return {
    overdueGraceMs: w.overdueGraceMinutes * 60_000,
    stuckMs: w.stuckMinutes * 60_000,
    unprotectedGraceMs: w.unprotectedGraceMinutes * 60_000,
    ignore: w.ignore,
    pvcLabel: config.backups.pvcLabel,
  };
}

export interface Problem {
  /** `namespace/name/kind`: the incident's identity. */
  id: string;
  kind: ProblemKind;
  namespace: string;
  /** The ReplicationSource, or for `unprotected` the PVC. */
  name: string;
  /** When the problem began, as far as the objects say (the store keeps the earliest seen). */
  since: number;
  /** What is wrong, a few words for the parent line (mrkdwn, escaped). */
  what: string;
  /** The facts the thread shows, one line each (mrkdwn, escaped); a change in them is posted. */
  facts: string[];
  health?: SourceHealth;
  pvc?: Pvc;
}

export interface Detection {
  problems: Problem[];
  /** Sources the watch could not judge, one clear line each (malformed objects). */
  notes: string[];
}

export const problemId = (namespace: string, name: string, kind: ProblemKind): string => `${namespace}/${name}/${kind}`;

function ignored(settings: WatchSettings, namespace: string, names: Array<string | undefined>): boolean {
  return settings.ignore.some((i) => i.namespace === namespace && (i.name === undefined || names.includes(i.name)));
}

/** When the overdue source's missed run was due, or undefined when it is not overdue (or cannot be judged). */
export function overdueSince(h: SourceHealth, now: number, graceMs: number): number | undefined {
  if (!h.schedule || h.paused) return undefined;
  const cron = cronSchedule(h.schedule);
  if (!cron) return undefined;
  const baseline = h.lastSync ?? ms(h.source.metadata?.creationTimestamp);
  if (baseline === undefined) return undefined;
  const due = cron.next(baseline);
  if (due === undefined) return undefined;
  // The run due after the last success had its whole interval plus the grace to succeed.
  const after = cron.next(due);
  const interval = after !== undefined ? after - due : 0;
  return now > due + interval + graceMs ? due : undefined;
}

function failingProblem(h: SourceHealth, now: number): Problem | undefined {
  const status = h.source.status ?? {};
  const sync = condition(status.conditions, 'Synchronizing');
  const failed = h.result === 'Failed';
  const syncError = sync?.reason === 'Error';
  if (!failed && !syncError) return undefined;
  let since = (failed ? h.lastSyncStart : undefined) ?? ms(sync?.lastTransitionTime) ?? now;
  // Every run since the last success failed: the first of them is when backups began failing
  // (a stale lock fails each run for days; "failing for 5m" would hide that).
  const cron = h.schedule ? cronSchedule(h.schedule) : undefined;
  const firstMissed = cron && h.lastSync !== undefined ? cron.next(h.lastSync) : undefined;
  if (firstMissed !== undefined && firstMissed < since) since = firstMissed;
  const facts = h.causes.filter((c) => c.kind === 'failed' || c.kind === 'sync-error' || c.kind === 'mover-failed' || c.kind === 'job-backoff').map((c) => c.text);
  return { id: problemId(h.namespace, h.name, 'failing'), kind: 'failing', namespace: h.namespace, name: h.name, since, what: 'backups failing', facts, health: h };
}

function stuckProblem(h: SourceHealth, now: number, stuckMs: number): Problem | undefined {
  const facts: string[] = [];
  let since: number | undefined;
  for (const p of h.pods) {
    if (p.metadata?.deletionTimestamp || (p.status?.phase !== undefined && p.status.phase !== 'Pending')) continue;
    const at = podSince(p);
    if (at === undefined || now - at < stuckMs) continue;
    since = Math.min(since ?? at, at);
    facts.push(`Mover pod ${inlineCode(nameOf(p), 120)} stuck in ${untrustedLine(podPhase(p), 120)} for ${humanDuration(now - at)}.`);
  }
  const volume = h.causes.find((c) => c.kind === 'volume-faulted');
  if (volume) facts.push(volume.text);
  if (!facts.length) return undefined;
  const what = volume ? 'backups stuck' : 'mover stuck';
  return { id: problemId(h.namespace, h.name, 'stuck'), kind: 'stuck', namespace: h.namespace, name: h.name, since: since ?? now, what, facts, health: h };
}

function overdueFact(h: SourceHealth, now: number): string {
  return h.lastSync
    ? `No successful sync for ${humanDuration(now - h.lastSync)} (schedule ${inlineCode(h.schedule ?? '', 60)}).`
    : `Never synced since it was created (schedule ${inlineCode(h.schedule ?? '', 60)}).`;
}

/** The problems of one source (paused: none). */
export function sourceProblems(h: SourceHealth, now: number, settings: WatchSettings): Problem[] {
  if (h.paused) return [];
  const out: Problem[] = [];
  const failing = failingProblem(h, now);
  if (failing) out.push(failing);
  const stuck = stuckProblem(h, now, settings.stuckMs);
  if (stuck) out.push(stuck);
  const due = overdueSince(h, now, settings.overdueGraceMs);
  if (due !== undefined) {
    if (out.length) for (const p of out) p.facts.push(overdueFact(h, now));
    else out.push({ id: problemId(h.namespace, h.name, 'overdue'), kind: 'overdue', namespace: h.namespace, name: h.name, since: due, what: 'backups overdue', facts: [overdueFact(h, now)], health: h });
  }
  if (!h.schedule) for (const p of out) p.facts.push('It has no schedule (manual syncs only), so overdue runs are not judged.');
  if (h.scheduleInvalid) for (const p of out) p.facts.push(`Its schedule ${inlineCode(h.schedule ?? '', 60)} could not be read, so overdue runs are not judged.`);
  return out;
}

export function detectProblems(inv: Inventory, now: number, settings: WatchSettings): Detection {
  const problems: Problem[] = [];
  const notes: string[] = [];
  const ix = indexInventory(inv);
  for (const rs of inv.sources) {
    const ns = namespaceOf(rs);
    const name = nameOf(rs);
    if (ignored(settings, ns, [name, rs.spec?.sourcePVC])) continue;
    try {
      problems.push(...sourceProblems(evaluateSource(rs, ix, now), now, settings));
    } catch (err) {
      // A status no VolSync would write (a string where an object belongs): say so, judge the rest.
      notes.push(`Could not judge ReplicationSource ${inlineCode(`${ns}/${name}`, 120)}: its spec or status is malformed (${untrustedLine((err as Error).message, 120)}).`);
    }
  }
  // Unprotected: labelled for backup, no source names it, for longer than the grace.
  const label = parseLabel(settings.pvcLabel);
  const protectedPvcs = new Set(inv.sources.map((s) => `${namespaceOf(s)}/${s.spec?.sourcePVC ?? ''}`));
  for (const pvc of inv.pvcs) {
    if (pvc.metadata?.labels?.[label.key] !== label.value) continue;
    const ns = namespaceOf(pvc);
    const name = nameOf(pvc);
    if (protectedPvcs.has(`${ns}/${name}`) || pvc.metadata?.deletionTimestamp || ignored(settings, ns, [name])) continue;
    const created = ms(pvc.metadata?.creationTimestamp);
    if (created === undefined || now - created < settings.unprotectedGraceMs) continue;
    problems.push({
      id: problemId(ns, name, 'unprotected'), kind: 'unprotected', namespace: ns, name, since: created, what: 'PVC not backed up',
      facts: [`PVC ${inlineCode(`${ns}/${name}`, 120)} is labelled ${inlineCode(settings.pvcLabel, 80)} but no ReplicationSource backs it up (for ${humanDuration(now - created)}).`],
      pvc,
    });
  }
  problems.sort((a, b) => a.id.localeCompare(b.id));
  return { problems, notes };
}
