/**
 * Alerts about backups get a backup diagnosis in their thread, not the generic pod one: VolSync's
 * own metric alerts (`obj_namespace`/`obj_name`), a failed mover Job (`volsync-src-*` /
 * `volsync-dst-*`), a crash-looping mover pod. The diagnosis is the source's, as the backup watch
 * gives it for an incident: its verdict (src/backup/source-health.ts), its problem
 * (src/backup/incidents.ts `sourceProblems`), and that problem's diagnosis
 * (src/backup/source-diagnosis.ts `diagnoseProblem`: the mover log classified with the runbook
 * patterns, the doctor's findings), with whether a mover runs now (src/volsync/mover-state.ts).
 */
import type { Kube } from '../kube/client.ts';
import { kubeErrorLine } from '../kube/client.ts';
import type { Block } from '../reply.ts';
import { clipText, codeBlockText, inlineCode, untrustedLine } from '../reply.ts';
import { moverJobName } from '../volsync/mover-pods.ts';
import { readSource } from '../volsync/source.ts';
import { moverStateLine } from '../volsync/mover-state.ts';
import { withTimeout } from '../backup/inventory.ts';
import type { Job, Pod } from '../backup/objects.ts';
import { rfc3339 } from '../backup/objects.ts';
import { evaluateSource, indexInventory } from '../backup/source-health.ts';
import type { SourceHealth } from '../backup/source-health.ts';
import type { WatchSettings } from '../backup/incidents.ts';
import { sourceProblems } from '../backup/incidents.ts';
import { diagnoseProblem } from '../backup/source-diagnosis.ts';
import { duration as humanDuration } from '../text.ts';

export type { BackupAlertTarget } from './backup-alert-target.ts';
export { backupAlertTarget } from './backup-alert-target.ts';
import type { BackupAlertTarget } from './backup-alert-target.ts';

export interface BackupDiagnosisDeps {
  kube: Kube;
  settings: WatchSettings;
  now: Date;
}

export interface BackupDiagnosis {
  blocks: Block[];
  /** Plain text for the notification. */
  text: string;
  /** For the group's parent: "media/plex: repository locked by a mover pod that no longer exists". */
  headline: string;
}

const READ_MS = 10_000;

async function moverObjects(kube: Kube, t: BackupAlertTarget): Promise<{ pods: Pod[]; job?: Job; error?: string }> {
  const job = moverJobName(t.kind, t.name);
  const [pods, read] = await Promise.all([
    withTimeout(kube.core.listNamespacedPod({ namespace: t.namespace, labelSelector: `job-name=${job}` }), READ_MS, 'list mover pods')
      .then((r) => ({ pods: (r.items ?? []) as unknown as Pod[] }))
      .catch((err: unknown) => ({ pods: [] as Pod[], error: kubeErrorLine(err, `list the mover pods of ${t.namespace}/${t.name}`, kube) })),
    withTimeout(kube.batch.readNamespacedJob({ namespace: t.namespace, name: job }), READ_MS, 'read mover Job')
      .then((j) => j as unknown as Job)
      // Gone (404) or unreadable: the pods still say whether a mover runs.
      .catch(() => undefined),
  ]);
  return { ...pods, ...(read ? { job: read } : {}) };
}

/** The next command for the operator, from what the diagnosis found. */
function nextCommand(h: SourceHealth, locked: boolean): string {
  if (locked) return `\`/restic locks ${h.namespace} ${h.name}\` shows who holds the lock and whether it is safe to remove.`;
  return `\`/backup status ${h.namespace} ${h.name}\` shows the source; \`/backup doctor ${h.namespace}\` runs the runbooks' checks.`;
}

/** The backup diagnosis of one alert's source, for its thread. Never throws: what it cannot read is said. */
export async function diagnoseBackupAlert(t: BackupAlertTarget, alertname: string | undefined, deps: BackupDiagnosisDeps): Promise<BackupDiagnosis> {
  const id = `${t.namespace}/${t.name}`;
  const alert = alertname ? ` · ${untrustedLine(alertname, 100)}` : '';
  if (t.kind === 'destination') {
    // A restore: no source to judge; the doctor knows stuck restores.
    const text = `Restore ${id} (ReplicationDestination) is failing: /backup doctor ${t.namespace} checks stuck restores.`;
    return {
      blocks: [
        { type: 'section', text: `:floppy_disk: *Restore of ${inlineCode(id, 120)}*${alert}\nThe mover of ReplicationDestination ${inlineCode(id, 120)} is failing.` },
        { type: 'section', text: `:point_right: *Next step:* \`/backup doctor ${t.namespace}\` checks stuck restores and their fix.` },
      ],
      text,
      headline: `restore ${id} failing`,
    };
  }
  let rs;
  try {
    rs = await readSource(deps.kube, t.namespace, t.name);
  } catch (err) {
    const why = untrustedLine((err as Error).message, 300);
    return { blocks: [{ type: 'section', text: `:floppy_disk: *Backup of ${inlineCode(id, 120)}*${alert}\n:grey_question: ${why}` }], text: `Backup of ${id}: could not read its ReplicationSource.`, headline: `backup ${id}: source unreadable` };
  }
  if (!rs) {
    return {
      blocks: [{ type: 'section', text: `:floppy_disk: *Backup of ${inlineCode(id, 120)}*${alert}\nThere is no ReplicationSource ${inlineCode(id, 120)} (deleted since the alert fired?). \`/backup status ${t.namespace}\` lists the namespace's sources.` }],
      text: `Backup of ${id}: no such ReplicationSource.`,
      headline: `backup ${id}: no such source`,
    };
  }
  const now = deps.now.getTime();
  const { pods, job, error } = await moverObjects(deps.kube, t);
  const h = evaluateSource(rs, indexInventory({ from: 'live', at: now, sources: [rs], pods, jobs: job ? [job] : [], pvcs: [], notes: [] }), now);
  const problem = sourceProblems(h, now, deps.settings)[0];
  const d = problem ? await diagnoseProblem(problem, { kube: deps.kube, pvcLabel: deps.settings.pvcLabel, now }) : undefined;

  const locked = /repository is already locked|unable to create lock/i.test(rs.status?.latestMoverStatus?.logs ?? '');
  const cause = d?.headline ?? problem?.what ?? (h.state === 'healthy' ? 'the source looks healthy now' : h.state);
  const moverLine = moverStateLine(h.mover, now);
  const head = `:floppy_disk: *Backup of ${inlineCode(id, 120)}* · ${h.state}${alert}`;
  const facts = [
    // Whether a mover runs: the words /backup status and /restic locks use.
    moverLine,
    `Last result: ${h.result ? `*${untrustedLine(h.result, 40)}*` : '—'} · last successful sync ${h.lastSync !== undefined ? `${rfc3339(h.lastSync)} (${humanDuration(now - h.lastSync)} ago)` : 'never'}`,
    ...(error ? [`:grey_question: ${untrustedLine(error, 300)}`] : []),
  ];
  // The diagnosis' own lines say the cause (and often the next step); without them, the verdict's causes.
  // The head says whether a mover runs; the diagnosis may say it too (the incident thread needs it).
  const own = d?.lines.filter((l) => l !== moverLine) ?? [];
  const lines = own.length ? own : h.causes.slice(0, 4).map((c) => `• ${c.kind === 'sync-error' ? untrustedLine(c.text, 500) : c.text}`);
  const saysCause = lines.some((l) => l.startsWith('*Cause:*'));
  const blocks: Block[] = [{ type: 'section', text: `${head}\n${cause === h.state || saysCause ? '' : `${cause}\n`}${facts.join('\n')}` }];
  if (lines.length) blocks.push({ type: 'section', text: clipText(lines.join('\n'), 2900) });
  if (!lines.some((l) => l.startsWith('*Next:*'))) blocks.push({ type: 'section', text: `:point_right: *Next step:* ${nextCommand(h, locked)}` });
  if (d?.fix.length) blocks.push({ type: 'code', text: codeBlockText(d.fix.join('\n'), 1500) });
  const tail = d?.logTail ?? h.logTail;
  if (tail) blocks.push({ type: 'context', elements: ['Last mover log'] }, { type: 'code', text: codeBlockText(tail, 1500) });
  // The headline is plain text (the parent escapes it); the diagnosis' own is mrkdwn already.
  const plain = cause.replace(/[*`]/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return {
    blocks,
    text: untrustedLine(`Backup of ${id}: ${h.state}${cause !== h.state ? `: ${plain}` : ''}`, 300),
    headline: `backup ${id}: ${plain}`,
  };
}
