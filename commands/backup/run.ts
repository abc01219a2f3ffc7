/**
 * /backup run <namespace> <name>: a manual VolSync sync, after a confirmation.
 *
 * VolSync syncs when `spec.trigger.manual` differs from `status.lastManualSync` and records the
 * token there when the sync succeeds. While a manual value is set VolSync ignores the schedule
 * (awaitNextSyncSource), so after a successful run on a scheduled source the trigger is removed
 * again and the schedule resumes; after a failure it is left (VolSync keeps retrying) and the
 * reply says how to go back to the schedule.
 */
import type { ActionInput, ActionResult, Answer, CommandContext } from '../../src/command/context.ts';
import { mention } from '../../src/command/context.ts';
import type { Kube } from '../../src/kube/client.ts';
import { kubeErrorLine, statusCode } from '../../src/kube/client.ts';
import type { Block, Reply } from '../../src/reply.ts';
import { errorReply, escapeMrkdwn } from '../../src/reply.ts';
import { UserError } from '../../src/errors.ts';
import type { BackgroundWork } from '../../src/command/background.ts';
import { duration as humanDuration } from '../../src/text.ts';
import { withTimeout } from '../../src/backup/inventory.ts';
import { listNamespaceSources, readSource } from '../../src/volsync/source.ts';
import { RESUME_SCHEDULE, mergePatchCmd, newToken, resumeSchedule, triggerManualSync } from '../../src/volsync/trigger.ts';
import { followSource } from '../../src/volsync/follow.ts';
import type { FollowOutcome as SourceFollowOutcome } from '../../src/volsync/follow.ts';
import type { Pod, ReplicationSource } from '../../src/backup/objects.ts';
import { ms, nameOf, rfc3339, sourceJobName } from '../../src/backup/objects.ts';
import { logTail } from '../../src/backup/source-health.ts';
import { resolveReply } from '../../src/backup/status.ts';
import { moverState, moverStateLine } from '../../src/volsync/mover-state.ts';

import { RUN_ACTION, RUN_AUDIT_ACTION, RUN_CANCEL_ACTION } from './actions.ts';

export { RUN_ACTION, RUN_AUDIT_ACTION, RUN_CANCEL_ACTION };

export interface FollowOptions {
  /** Give up following after this long (the sync itself goes on). Default 60 minutes. */
  timeoutMs: number;
  /** First poll interval; it grows to 6× while nothing changes. Default 3 s. */
  pollMs: number;
}

export const DEFAULT_FOLLOW: FollowOptions = { timeoutMs: 60 * 60_000, pollMs: 3000 };

async function moverPods(kube: Kube, namespace: string, name: string): Promise<Pod[]> {
  try {
    const res = await withTimeout(kube.core.listNamespacedPod({ namespace, labelSelector: `job-name=${sourceJobName(name)}` }), 15_000, 'list mover pods');
    return (res.items ?? []) as unknown as Pod[];
  } catch {
    return [];
  }
}

/** Why a manual sync cannot start now, or undefined. */
export function refusal(rs: ReplicationSource, pods: Pod[], now: number): string | undefined {
  const ns = rs.metadata?.namespace ?? '';
  const name = nameOf(rs);
  if (rs.spec?.paused) {
    return `\`${ns}/${name}\` is paused (\`spec.paused: true\`), so a manual sync would not start. Resume it first: \`${mergePatchCmd(ns, name, '{"spec":{"paused":false}}')}\``;
  }
  // A sync VolSync has in progress (a mover pod, or VolSync retrying without one) would not start
  // a second one: the manual trigger only waits behind it. Said in the words every reply uses.
  const mover = moverState(rs, pods);
  if (mover.kind === 'mover') {
    return `\`${ns}/${name}\`: ${moverStateLine(mover, now)} Wait for it to finish; \`/backup status ${ns} ${name}\` shows it.`;
  }
  if (mover.kind === 'no-pod') {
    return `\`${ns}/${name}\`: ${moverStateLine(mover, now)} A manual sync would only wait behind this one${mover.retrying ? `; \`/backup status ${ns} ${name}\` shows why it fails` : `; \`/backup status ${ns} ${name}\` shows it`}.`;
  }
  const manual = rs.spec?.trigger?.manual;
  if (manual && manual !== rs.status?.lastManualSync) {
    return `A manual sync of \`${ns}/${name}\` (\`${escapeMrkdwn(manual.slice(0, 60))}\`) is already requested and not finished yet. \`/backup status ${ns} ${name}\` shows it.`;
  }
  return undefined;
}

function plan(rs: ReplicationSource, followMinutes: number): string[] {
  const ns = rs.metadata?.namespace ?? '';
  const name = nameOf(rs);
  const schedule = rs.spec?.trigger?.schedule;
  const repo = rs.spec?.restic?.repository;
  return [
    `• Merge-patch ReplicationSource \`${ns}/${name}\`: set \`spec.trigger.manual\` to a new token.`,
    `• VolSync then runs mover Job \`${sourceJobName(name)}\`: a restic backup of PVC \`${rs.spec?.sourcePVC ?? '?'}\`${repo ? ` into the repository in Secret \`${repo}\`` : ''}.`,
    `• I follow it for up to ${followMinutes} minutes and post the result in this thread (done when \`status.lastManualSync\` equals the token).`,
    schedule
      ? `• The schedule \`${escapeMrkdwn(schedule)}\` is suspended while the manual trigger is set; once the sync succeeds I remove the trigger so the schedule resumes.`
      : '• The source has no schedule: the manual trigger stays set, as before.',
  ];
}

export interface RunDeps {
  follow?: Partial<FollowOptions>;
}

export interface ApproveRunDeps extends RunDeps {
  /** Where the follow-up runs, so the bot's stop() ends it. */
  background: BackgroundWork;
}

/** `asked` is a source's name, its source PVC or its app label: the one resolve rule of every command. */
export async function requestRun(ctx: CommandContext, namespace: string, asked: string, deps: RunDeps = {}): Promise<Reply> {
  const { confirmations, audit } = ctx.services;
  const kube = ctx.services.kube!;
  let rs = await readSource(kube, namespace, asked);
  if (!rs) {
    const sources = await listNamespaceSources(kube, namespace).catch(() => []);
    if (!sources.length) return errorReply(`No ReplicationSources in \`${namespace}\` (or no namespace \`${namespace}\`). \`/backup status\` lists them.`);
    const found = resolveReply(sources, namespace, asked, '/backup run');
    if ('reply' in found) return found.reply;
    rs = found.source;
  }
  const name = nameOf(rs);
  const now = ctx.now().getTime();
  const refused = refusal(rs, await moverPods(kube, namespace, name), now);
  const target = `${namespace}/${name}`;
  if (refused) {
    audit.record({ actor: ctx.actor, action: RUN_AUDIT_ACTION, target, channel: ctx.channel, outcome: 'refused', detail: refused.replace(/[`*]/g, '').slice(0, 300) });
    return errorReply(refused);
  }
  const record = await confirmations.create({ action: RUN_AUDIT_ACTION, target, requester: ctx.actor, data: { namespace, name, uid: rs.metadata?.uid ?? '' } });
  audit.record({ actor: ctx.actor, action: RUN_AUDIT_ACTION, target, channel: ctx.channel, outcome: 'requested' });
  const follow = { ...DEFAULT_FOLLOW, ...deps.follow };
  const steps = plan(rs, Math.round(follow.timeoutMs / 60_000));
  const lastSync = ms(rs.status?.lastSyncTime);
  const blocks: Block[] = [
    { type: 'section', text: `*Run a backup of \`${target}\` now?*\n${steps.join('\n')}` },
    { type: 'context', elements: [`Last sync: ${lastSync !== undefined ? `${rfc3339(lastSync)} (${humanDuration(now - lastSync)} ago)` : 'never'} · requested by ${mention(ctx.actor)} · an operator must confirm within ${confirmations.ttlMinutes} minutes`] },
  ];
  return {
    text: `Run a backup of ${target} now? An operator must confirm.`,
    blocks,
    visibility: 'channel',
    tone: 'info',
    confirmation: {
      actionId: RUN_ACTION,
      token: record.id,
      question: `Trigger a manual sync of ReplicationSource \`${target}\` (merge patch of \`spec.trigger.manual\`)?`,
      confirmLabel: 'Run backup now',
      cancelActionId: RUN_CANCEL_ACTION,
    },
  };
}

export type FollowOutcome =
  | { outcome: 'succeeded'; rs: ReplicationSource }
  | Exclude<SourceFollowOutcome, { outcome: 'done' }>;

/** Polls the source until its lastManualSync equals `token`, a new failure shows, or the deadline. */
export async function followManualSync(kube: Kube, namespace: string, name: string, token: string, before: ReplicationSource, opts: FollowOptions, signal?: AbortSignal): Promise<FollowOutcome> {
  const o = await followSource(kube, namespace, name, before, (rs) => rs.status?.lastManualSync === token, { ...opts, backoff: true, syncErrors: true }, signal);
  return o.outcome === 'done' ? { outcome: 'succeeded', rs: o.rs } : o;
}

/** The line about the schedule after a successful run. */
async function resumeLine(kube: Kube, rs: ReplicationSource, token: string): Promise<string | undefined> {
  const ns = rs.metadata?.namespace ?? '';
  const name = nameOf(rs);
  const r = await resumeSchedule(kube, rs, token);
  if (r.outcome === 'left') return undefined;
  if (r.outcome === 'resumed') return `The manual trigger is removed, so the schedule \`${escapeMrkdwn(r.schedule)}\` resumes.`;
  return `:warning: Could not remove the manual trigger (${r.why}); until it is removed the schedule stays suspended: \`${mergePatchCmd(ns, name, RESUME_SCHEDULE)}\``;
}

export function outcomeReply(o: FollowOutcome, target: string, token: string, startedAt: number, now: number, extra?: string): Reply {
  const [ns = '', name = ''] = target.split('/');
  const took = humanDuration(now - startedAt);
  const resume = `To go back to the schedule without a manual sync: \`${mergePatchCmd(ns, name, RESUME_SCHEDULE)}\``;
  switch (o.outcome) {
    case 'succeeded': {
      const st = o.rs.status ?? {};
      const text = `:white_check_mark: Backup of \`${target}\` succeeded: synced in ${st.lastSyncDuration ? escapeMrkdwn(st.lastSyncDuration) : took}${st.lastSyncTime ? `, finished ${rfc3339(ms(st.lastSyncTime)!)}` : ''} (${took} after the trigger).`;
      return { text: text.replace(/[`*]|:[a-z_]+:/g, '').trim(), blocks: [{ type: 'section', text: [text, extra].filter(Boolean).join('\n') }], visibility: 'channel', tone: 'ok' };
    }
    case 'failed': {
      const tail = logTail(o.logs, 15);
      const blocks: Block[] = [{ type: 'section', text: `:red_circle: Backup of \`${target}\` failed after ${took}: ${o.reason}.${o.logs && /already locked|unable to create lock/i.test(o.logs) ? ` A restic lock blocks it: \`/restic locks ${ns} ${name}\`.` : ''}` }];
      if (tail) blocks.push({ type: 'code', text: escapeMrkdwn(tail) });
      blocks.push({ type: 'context', elements: [`The manual trigger \`${escapeMrkdwn(token)}\` is still set, so VolSync keeps retrying it and the schedule waits. ${resume}`] });
      return { text: `Backup of ${target} failed after ${took}.`, blocks, visibility: 'channel', tone: 'error' };
    }
    case 'timeout':
      return {
        text: `Backup of ${target} has not finished after ${took}.`,
        blocks: [
          { type: 'section', text: `:hourglass_flowing_sand: Backup of \`${target}\` has not finished after ${took}; I stopped following it. \`/backup status ${ns} ${name}\` shows where it is.` },
          { type: 'context', elements: [`The manual trigger \`${escapeMrkdwn(token)}\` is still set. ${resume}`] },
        ],
        visibility: 'channel',
        tone: 'warn',
      };
    case 'gone':
      return { text: `ReplicationSource ${target} was deleted while the backup ran.`, blocks: [{ type: 'section', text: `:warning: ReplicationSource \`${target}\` was deleted while I followed the backup.` }], visibility: 'channel', tone: 'warn' };
  }
}

export async function approveRun(input: ActionInput, ctx: CommandContext, approval: Answer, deps: ApproveRunDeps): Promise<ActionResult> {
  const { audit, log } = ctx.services;
  const kube = ctx.services.kube!;
  const rec = approval.record;
  const namespace = rec.data.namespace ?? rec.target.split('/')[0] ?? '';
  const name = rec.data.name ?? rec.target.split('/')[1] ?? '';
  const target = `${namespace}/${name}`;
  const requester = approval.requester;
  const who = (id: string) => mention(input.actor, { id });
  if (approval.status === 'waiting') {
    return { ephemeral: { text: 'Approval recorded; a second operator must confirm too.', blocks: [{ type: 'section', text: 'Approval recorded; a second operator must confirm too.' }], visibility: 'ephemeral', tone: 'info' } };
  }
  const confirmedBy = rec.approvals.map((a) => ({ id: a.id, name: a.name, via: input.actor.via }));
  const refuse = (why: string): ActionResult => {
    audit.record({ actor: requester, action: RUN_AUDIT_ACTION, target, channel: input.channel, confirmedBy, outcome: 'refused', detail: why.replace(/[`*]/g, '').slice(0, 300) });
    return { replace: { text: `Not run: ${why.replace(/[`*]/g, '')}`, blocks: [{ type: 'section', text: `:warning: Confirmed by ${who(input.actor.id)}, but not run: ${why}` }], visibility: 'channel', tone: 'error' } };
  };

  // Check again: minutes may have passed since the question was asked.
  const token = newToken(ctx.now());
  let rs: ReplicationSource | undefined;
  for (let attempt = 0; ; attempt++) {
    rs = await readSource(kube, namespace, name);
    if (!rs) return refuse(`ReplicationSource \`${target}\` no longer exists.`);
    if (rec.data.uid && rs.metadata?.uid !== rec.data.uid) return refuse(`ReplicationSource \`${target}\` was deleted and created again since the question was asked; run the command again.`);
    const why = refusal(rs, await moverPods(kube, namespace, name), ctx.now().getTime());
    if (why) return refuse(why);
    try {
      await triggerManualSync(kube, rs, token);
      break;
    } catch (err) {
      if (statusCode(err) === 409 && attempt < 3) continue;
      const line = kubeErrorLine(err, `set spec.trigger.manual on ${target}`, kube);
      audit.record({ actor: requester, action: RUN_AUDIT_ACTION, target, channel: input.channel, confirmedBy, outcome: 'failed', detail: line });
      return { replace: { text: line, blocks: [{ type: 'section', text: `:warning: ${line}` }], visibility: 'channel', tone: 'error' } };
    }
  }
  const ran = [mergePatchCmd(namespace, name, `{"spec":{"trigger":{"manual":"${token}"}}}`)];
  audit.record({ actor: requester, action: RUN_AUDIT_ACTION, target, channel: input.channel, confirmedBy, ran, outcome: 'confirmed' });
  const startedAt = Date.now();
  const follow: FollowOptions = { ...DEFAULT_FOLLOW, ...deps.follow };
  const before = rs;
  deps.background.start(async (signal) => {
    let result: Reply;
    try {
      const o = await followManualSync(kube, namespace, name, token, before, follow, signal);
      if (signal.aborted) return;
      const extra = o.outcome === 'succeeded' ? await resumeLine(kube, o.rs, token) : undefined;
      result = outcomeReply(o, target, token, startedAt, Date.now(), extra);
      audit.record({
        actor: requester, action: RUN_AUDIT_ACTION, target, channel: input.channel, confirmedBy, ran,
        outcome: o.outcome === 'succeeded' ? 'succeeded' : 'failed',
        detail: o.outcome === 'succeeded' ? `lastManualSync=${token} duration=${o.rs.status?.lastSyncDuration ?? '?'}` : o.outcome,
      });
    } catch (err) {
      log.error({ err, target }, 'following a manual sync failed');
      result = errorReply(`I lost track of the backup of \`${target}\`; \`/backup status ${namespace} ${name}\` shows where it is.`);
    }
    try {
      await ctx.notify(result);
    } catch (err) {
      log.error({ err, target }, 'could not post the result of a manual sync');
    }
  });
  return {
    replace: {
      text: `Backup of ${target} started (token ${token}); I'll post the result here.`,
      blocks: [
        { type: 'section', text: `:arrows_counterclockwise: Backup of \`${target}\` started: confirmed by ${who(input.actor.id)}; \`spec.trigger.manual\` is \`${token}\`. I'll post the result in this thread.` },
        { type: 'context', elements: [`Requested by ${who(requester.id)} · following for up to ${Math.round(follow.timeoutMs / 60_000)} minutes`] },
      ],
      visibility: 'channel',
      tone: 'info',
    },
  };
}

export async function cancelRun(input: ActionInput, ctx: CommandContext, answer: Answer): Promise<ActionResult> {
  const { audit } = ctx.services;
  const rec = answer.record;
  audit.record({ actor: answer.requester, action: RUN_AUDIT_ACTION, target: rec.target, channel: input.channel, confirmedBy: [input.actor], outcome: 'cancelled' });
  return { replace: { text: `Cancelled: no backup of ${rec.target} was started.`, blocks: [{ type: 'section', text: `Cancelled by ${mention(input.actor, { id: input.actor.id })}: no backup of \`${rec.target}\` was started.` }], visibility: 'channel', tone: 'info' } };
}
