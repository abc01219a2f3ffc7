/** DoctorResult → one Reply: a line per check, the findings, and the commands that fix them. */
import type { Block, Reply } from '../reply.ts';
import { escapeMrkdwn, untrustedLine } from '../reply.ts';
import { rfc3339 } from './objects.ts';
import type { CheckId, DoctorResult, Finding } from './doctor.ts';
import { joinWithin } from './status-reply.ts';

export const CHECKS: Array<{ id: CheckId; title: string; what: string }> = [
  { id: 'unprotected-pvc', title: 'PVCs labelled for backup without a ReplicationSource', what: 'labelled PVCs' },
  { id: 'repository-secret', title: 'Repository Secrets missing or incomplete', what: 'repository Secrets' },
  { id: 'restore-stuck', title: 'Restore pods stuck', what: 'restore pods' },
  { id: 'longhorn-faulted', title: 'Longhorn volumes faulted or unknown', what: 'Longhorn volumes' },
  { id: 'rolling-rwo', title: 'Single-replica Deployments with a ReadWriteOnce volume and RollingUpdate', what: 'Deployments with volumes' },
];

const TEXT_BUDGET = 2800;
const CODE_BUDGET = 2500;

export function renderDoctor(result: DoctorResult, opts: { now: number; server?: string }): Reply {
  const scope = result.namespace ? `in ${result.namespace}` : 'in all namespaces';
  const byCheck = new Map<CheckId, Finding[]>();
  for (const f of result.findings) byCheck.set(f.check, [...(byCheck.get(f.check) ?? []), f]);
  const total = result.findings.length;
  const summary = CHECKS.map((c) => `${(byCheck.get(c.id)?.length ?? 0) ? ':red_circle:' : ':white_check_mark:'} ${c.title}: ${byCheck.get(c.id)?.length ?? 0} (of ${result.looked[c.id]} ${c.what})`);
  const blocks: Block[] = [
    { type: 'header', text: `Backup doctor ${scope}` },
    { type: 'section', text: `*${total === 0 ? 'Nothing wrong found.' : `${total} finding${total === 1 ? '' : 's'}.`}*\n${summary.join('\n')}` },
  ];
  for (const c of CHECKS) {
    const list = byCheck.get(c.id);
    if (!list?.length) continue;
    blocks.push({ type: 'divider' });
    const more = (n: number) => `…and ${n} more${result.namespace ? '' : ' (`/backup doctor <namespace>` narrows it down)'}.`;
    blocks.push({ type: 'section', text: `*${c.title} (${list.length})*\n${joinWithin(list.map((f) => `• ${f.why}`), '\n', TEXT_BUDGET - c.title.length - 10, more)}` });
    // Commands once each, in finding order: several findings often share a fix.
    const commands = [...new Set(list.flatMap((f) => f.fix))];
    blocks.push({ type: 'code', text: escapeMrkdwn(joinWithin(commands, '\n', CODE_BUDGET, (n) => `# …and ${n} more commands`)) });
  }
  const context = [`Checked live at ${rfc3339(opts.now)}${opts.server ? ` against ${opts.server}` : ''} · from the VolSync and Backrest runbooks`];
  for (const s of result.skipped) context.push(`:warning: ${untrustedLine(s, 400)}`);
  blocks.push({ type: 'context', elements: context });
  const counts = CHECKS.filter((c) => byCheck.get(c.id)?.length).map((c) => `${byCheck.get(c.id)!.length} ${c.what}`);
  return {
    text: total === 0 ? `Backup doctor ${scope}: nothing wrong found.` : `Backup doctor ${scope}: ${total} findings (${counts.join(', ')}).`,
    blocks,
    visibility: 'ephemeral',
    tone: total === 0 ? (result.skipped.length ? 'warn' : 'ok') : 'warn',
  };
}
