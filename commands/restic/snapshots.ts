/**
 * `/restic snapshots <namespace> <app> [--all]`: the newest snapshots as the repository itself has
 * them, and the verdicts where the repository and the ReplicationSource disagree (src/restic/
 * repository-truth.ts). Read-only: restic runs with --no-lock, and not while the bot holds the
 * repository's Lease for an unlock. `--all` sends the older snapshots as pages in the thread.
 */
import type { CommandContext } from '../../src/command/context.ts';
import type { Block, Reply } from '../../src/reply.ts';
import { escapeMrkdwn } from '../../src/reply.ts';
import { bytes, duration, plural } from '../../src/text.ts';
import { formatInstant } from '../../src/restic/index.ts';
import { listSnapshots } from '../../src/restic/snapshots.ts';
import type { ResticSnapshot } from '../../src/restic/snapshots.ts';
import { repositoryTruth } from '../../src/restic/repository-truth.ts';
import { leaseExpiry } from '../../src/kube/lease.ts';
import { statusCode } from '../../src/kube/client.ts';
import type { Kube } from '../../src/kube/client.ts';
import { UserError } from '../../src/errors.ts';
import { withRepository } from '../../src/volsync/repository.ts';
import { resolveSource } from '../../src/volsync/source.ts';
import { asUserErrors } from './failure.ts';
import { resticOptions } from './restic-options.ts';
import { describeHolder, leaseName } from './repository-lease.ts';

/** Shown in the reply itself. */
export const NEWEST_SHOWN = 10;
/** Per page in the thread with --all (one section of lines stays well inside Slack's 3,000 characters). */
export const PAGE_SIZE = 25;

/** One snapshot in one line: when, ID, host, what it read and added, its tags. */
export function snapshotLine(s: ResticSnapshot, now: Date, samePaths: boolean): string {
  const parts = [`\`${s.shortId}\``, `${formatInstant(s.time)} (${duration(now.getTime() - s.time.getTime())} ago)`, `host \`${escapeMrkdwn(s.hostname)}\``];
  if (s.summary) parts.push(`${plural(s.summary.filesProcessed, 'file')}, ${bytes(s.summary.bytesProcessed)} · +${bytes(s.summary.dataAdded)} new`);
  if (!samePaths) parts.push(s.paths.map((p) => `\`${escapeMrkdwn(p)}\``).join(' '));
  if (s.tags.length) parts.push(`tags ${s.tags.map((t) => `\`${escapeMrkdwn(t)}\``).join(' ')}`);
  return `• ${parts.join(' · ')}`;
}

/** Refuses while a bot unlock holds the repository's Lease: its pause and unlock come first. */
async function refuseDuringUnlock(kube: Kube, namespace: string, source: string, now: Date): Promise<void> {
  try {
    const lease = await kube.coordination.readNamespacedLease({ namespace, name: leaseName(source) });
    const expiry = leaseExpiry(lease);
    if (lease.spec?.holderIdentity && expiry && expiry.getTime() > now.getTime()) {
      throw new UserError(`An unlock of \`${namespace}/${source}\` by ${describeHolder(lease.spec.holderIdentity)} is running; its repository is left alone until it ends. Try again in a minute.`);
    }
  } catch (err) {
    if (err instanceof UserError || statusCode(err) !== 404) throw err;
  }
}

export async function resticSnapshots(ctx: CommandContext, namespace: string, app: string, all: boolean): Promise<Reply> {
  const kube = ctx.services.kube!;
  const source = await resolveSource(kube, namespace, app, '/restic snapshots');
  const name = source.metadata?.name ?? app;
  const target = `${namespace}/${name}`;
  await refuseDuringUnlock(kube, namespace, name, ctx.now());
  const { snapshots, secretName } = await withRepository(kube, source, (repo) =>
    asUserErrors(async () => ({ snapshots: await listSnapshots(repo.target, resticOptions(ctx)), secretName: repo.secretName })),
  );
  const now = ctx.now();
  const verdicts = repositoryTruth(source, snapshots, now);
  const problems = verdicts.filter((v) => v.problem);
  const paths = new Set(snapshots.map((s) => s.paths.join('\u0000')));
  const samePaths = paths.size <= 1;
  const head = snapshots.length
    ? `${problems.length ? ':warning:' : ':white_check_mark:'} ${plural(snapshots.length, 'snapshot')} in the repository of \`${target}\`, the newest ${duration(now.getTime() - snapshots[0]!.time.getTime())} old${problems.length ? `: ${plural(problems.length, 'problem')}` : verdicts.length ? '; nothing to fix' : '; the repository agrees with the ReplicationSource'}.`
    : `:warning: No snapshots in the repository of \`${target}\`.`;
  const shown = snapshots.slice(0, NEWEST_SHOWN);
  const rest = snapshots.slice(NEWEST_SHOWN);
  const blocks: Block[] = [
    { type: 'header', text: `restic snapshots · ${target}` },
    { type: 'section', text: [head, ...verdicts.map((v) => `${v.problem ? '• :red_circle:' : '• :information_source:'} ${v.line}`)].join('\n') },
  ];
  if (shown.length) blocks.push({ type: 'section', text: `*Newest ${shown.length === 1 ? 'snapshot' : `${shown.length}`}*\n${shown.map((s) => snapshotLine(s, now, samePaths)).join('\n')}` });
  const more = rest.length
    ? all
      ? `${plural(rest.length, 'older snapshot')} in the thread, ${PAGE_SIZE} per message.`
      : `${plural(rest.length, 'older snapshot')} not shown: \`/restic snapshots ${namespace} ${name} --all\` lists them.`
    : undefined;
  blocks.push({
    type: 'context',
    elements: [
      ...(more ? [more] : []),
      `Source \`${target}\`${name !== app ? ` (matched \`${escapeMrkdwn(app)}\`)` : ''} · Secret \`${secretName}\`${samePaths && snapshots[0] ? ` · paths ${snapshots[0].paths.map((p) => `\`${escapeMrkdwn(p)}\``).join(' ')}` : ''} · read without a lock ${formatInstant(now)}`,
    ],
  });
  const followUps: Reply[] = [];
  if (all) {
    for (let i = 0; i < rest.length; i += PAGE_SIZE) {
      const page = rest.slice(i, i + PAGE_SIZE);
      const from = NEWEST_SHOWN + i + 1;
      const title = `Snapshots ${from}–${from + page.length - 1} of ${snapshots.length} · ${target}`;
      followUps.push({ text: title, blocks: [{ type: 'section', text: `*${title}*\n${page.map((s) => snapshotLine(s, now, samePaths)).join('\n')}` }], visibility: 'channel', tone: 'info' });
    }
  }
  const text = `${plural(snapshots.length, 'snapshot')} in the repository of ${target}${problems.length ? `; ${problems.map((p) => p.kind).join(', ')}` : ''}.`;
  return {
    text, blocks,
    // The pages go into a thread, so a listing with --all is a channel message; otherwise only the asker sees it.
    visibility: all && followUps.length ? 'channel' : 'ephemeral',
    tone: problems.length ? 'warn' : 'ok',
    ...(followUps.length ? { followUps } : {}),
  };
}
