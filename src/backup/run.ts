/**
 * /backup run <namespace> <name>: a manual VolSync sync, after a confirmation.
 *
 * VolSync syncs when `spec.trigger.manual` differs from `status.lastManualSync` and records the
 * token there when the sync succeeds. While a manual value is set VolSync ignores the schedule
 * (awaitNextSyncSource), so after a successful run on a scheduled source the trigger is removed
 * again and the schedule resumes; after a failure it is left (VolSync keeps retrying) and the
 * reply says how to go back to the schedule.
 */
import { randomBytes } from 'node:crypto';
import type { ActionInput, ActionResult, CommandContext } from '../command/context.ts';
import type { Kube } from '../kube/client.ts';
import { MERGE_PATCH, VOLSYNC, kubeErrorLine, statusCode } from '../kube/client.ts';
import type { Block, Reply } from '../reply.ts';
import { errorReply, escapeMrkdwn } from '../reply.ts';
import { UserError } from '../errors.ts';
import { approveAudited } from '../confirm/confirmations.ts';
import { humanDuration } from './human-duration.ts';
import { VOLSYNC_MISSING, listSources, withTimeout } from './inventory.ts';
import type { Pod, ReplicationSource } from './objects.ts';
import { condition, ms, nameOf, rfc3339, sourceJobName } from './objects.ts';
import { logTail, podPhase, podSince } from './source-health.ts';
import { NO_CLUSTER, unknownSourceReply } from './status.ts';

export const RUN_ACTION = 'bb:backup:run';
export const RUN_CANCEL_ACTION = 'bb:backup:run-cancel';
/** The confirmation's action and the audit record's action. */
export const RUN_AUDIT_ACTION = '/backup run';

export interface FollowOptions {
  /** Give up following after this long (the sync itself goes on). Default 60 minutes. */
  timeoutMs: number;
  /** First poll interval; it grows to 6× while nothing changes. Default 3 s. */
  pollMs: number;
}

export const DEFAULT_FOLLOW: FollowOptions = { timeoutMs: 60 * 60_000, pollMs: 3000 };

const mergePatchCmd = (ns: string, name: string, body: string) => `kubectl patch replicationsource ${name} -n ${ns} --type merge -p '${body}'`;
const RESUME_SCHEDULE = '{"spec":{"trigger":{"manual":null}}}';

async function readSource(kube: Kube, namespace: string, name: string): Promise<ReplicationSource | undefined> {
  try {
    return (await withTimeout(kube.custom.getNamespacedCustomObject({ group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources, namespace, name }), 15_000, 'read source')) as ReplicationSource;
  } catch (err) {
    if (statusCode(err) === 404) {
      // 404 for the object, or for the whole resource when VolSync is not installed.
      const raw = (err as { body?: unknown }).body;
      const body = typeof raw === 'string' ? raw : JSON.stringify(raw ?? '');
      if (/the server could not find the requested resource/i.test(body) && !/replicationsources\.volsync\.backube "/.test(body)) throw new UserError(VOLSYNC_MISSING);
      return undefined;
    }
    throw new UserError(kubeErrorLine(err, `read ReplicationSource ${namespace}/${name}`, kube));
  }
}

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
  const sync = condition(rs.status?.conditions, 'Synchronizing');
  const active = pods.find((p) => (p.status?.phase === 'Running' || p.status?.phase === 'Pending') && !p.metadata?.deletionTimestamp);
  if ((sync?.status === 'True' && sync.reason === 'SyncInProgress') || active) {
    const since = ms(sync?.lastTransitionTime) ?? (active ? podSince(active) : undefined);
    return `A sync of \`${ns}/${name}\` is already running${since !== undefined ? ` (for ${humanDuration(now - since)})` : ''}${active ? `: mover pod \`${nameOf(active)}\` is ${podPhase(active)}` : ''}. Wait for it to finish; \`/backup status ${ns} ${name}\` shows it.`;
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

export async function requestRun(ctx: CommandContext, namespace: string, name: string, deps: RunDeps = {}): Promise<Reply> {
  const { kube, confirmations, audit } = ctx.services;
  if (!kube) return errorReply(NO_CLUSTER);
  const rs = await readSource(kube, namespace, name);
  if (!rs) {
    const sources = await listSources(kube, namespace).catch(() => []);
    if (!sources.length) return errorReply(`No ReplicationSources in \`${namespace}\` (or no namespace \`${namespace}\`). \`/backup status\` lists them.`);
    return unknownSourceReply(namespace, name, sources, '/backup run');
  }
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
    { type: 'context', elements: [`Last sync: ${lastSync !== undefined ? `${rfc3339(lastSync)} (${humanDuration(now - lastSync)} ago)` : 'never'} · requested by ${ctx.actor.via === 'slack' ? `<@${ctx.actor.id}>` : escapeMrkdwn(ctx.actor.name ?? ctx.actor.id)} · an operator must confirm within ${confirmations.ttlMinutes} minutes`] },
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

export function newToken(now: Date): string {
  return `backup-bot-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

/** Sets spec.trigger.manual, conditional on the resourceVersion just checked (a 409 means: check again). */
export async function triggerManualSync(kube: Kube, rs: ReplicationSource, token: string): Promise<void> {
  const body = { metadata: { resourceVersion: rs.metadata?.resourceVersion }, spec: { trigger: { manual: token } } };
  await kube.custom.patchNamespacedCustomObject({
    group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources,
    namespace: rs.metadata?.namespace ?? '', name: nameOf(rs), body,
  }, MERGE_PATCH);
}

export type FollowOutcome =
  | { outcome: 'succeeded'; rs: ReplicationSource }
  | { outcome: 'failed'; rs: ReplicationSource; reason: string; logs?: string }
  | { outcome: 'timeout'; rs?: ReplicationSource }
  | { outcome: 'gone' };

/** Polls the source until its lastManualSync equals `token`, a new failure shows, or the deadline. */
export async function followManualSync(kube: Kube, namespace: string, name: string, token: string, before: ReplicationSource, opts: FollowOptions, signal?: AbortSignal): Promise<FollowOutcome> {
  const deadline = Date.now() + opts.timeoutMs;
  const prevResult = before.status?.latestMoverStatus;
  let interval = opts.pollMs;
  let last: ReplicationSource | undefined;
  while (Date.now() < deadline && !signal?.aborted) {
    await new Promise((r) => setTimeout(r, Math.min(interval, Math.max(0, deadline - Date.now()))));
    let rs: ReplicationSource | undefined;
    try {
      rs = await readSource(kube, namespace, name);
    } catch {
      // The API server may be restarting: keep following until the deadline.
      interval = Math.min(interval * 2, opts.pollMs * 6);
      continue;
    }
    if (!rs) return { outcome: 'gone' };
    last = rs;
    const st = rs.status ?? {};
    if (st.lastManualSync === token) return { outcome: 'succeeded', rs };
    const mover = st.latestMoverStatus;
    if (mover?.result === 'Failed' && (prevResult?.result !== 'Failed' || prevResult.logs !== mover.logs)) {
      return { outcome: 'failed', rs, reason: 'the mover reported *Failed*', logs: mover.logs };
    }
    const sync = condition(st.conditions, 'Synchronizing');
    if (sync?.reason === 'Error') return { outcome: 'failed', rs, reason: `VolSync reports an error: ${escapeMrkdwn(sync.message ?? 'no message')}` };
    interval = Math.min(Math.round(interval * 1.5), opts.pollMs * 6);
  }
  return { outcome: 'timeout', rs: last };
}

async function resumeSchedule(kube: Kube, rs: ReplicationSource, token: string): Promise<string | undefined> {
  const ns = rs.metadata?.namespace ?? '';
  const name = nameOf(rs);
  let current: ReplicationSource | undefined = rs;
  for (let attempt = 0; attempt < 4 && current; attempt++) {
    const schedule = current.spec?.trigger?.schedule;
    // Someone set another trigger meanwhile, or there is no schedule to go back to: leave it.
    if (!schedule || current.spec?.trigger?.manual !== token) return undefined;
    try {
      await kube.custom.patchNamespacedCustomObject({
        group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources, namespace: ns, name,
        body: { metadata: { resourceVersion: current.metadata?.resourceVersion }, spec: { trigger: { manual: null } } },
      }, MERGE_PATCH);
      return `The manual trigger is removed, so the schedule \`${escapeMrkdwn(schedule)}\` resumes.`;
    } catch (err) {
      if (statusCode(err) !== 409) {
        return `:warning: Could not remove the manual trigger (${kubeErrorLine(err, 'patch the source', kube)}); until it is removed the schedule stays suspended: \`${mergePatchCmd(ns, name, RESUME_SCHEDULE)}\``;
      }
      current = await readSource(kube, ns, name).catch(() => undefined);
    }
  }
  return `:warning: Could not remove the manual trigger (the source kept changing); until it is removed the schedule stays suspended: \`${mergePatchCmd(ns, name, RESUME_SCHEDULE)}\``;
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

/** In-flight follow-ups, so stop() can end them. */
const following = new Set<AbortController>();
export function stopFollowing(): void {
  for (const c of following) c.abort();
  following.clear();
}

export async function approveRun(input: ActionInput, ctx: CommandContext, deps: RunDeps = {}): Promise<ActionResult> {
  const { kube, confirmations, audit, access, log } = ctx.services;
  const denied = await access.checkOperator(input.actor);
  if (denied) {
    audit.record({ actor: input.actor, action: RUN_AUDIT_ACTION, target: 'confirmation', channel: input.channel, outcome: 'denied' });
    return { ephemeral: errorReply(denied) };
  }
  if (!kube) return { ephemeral: errorReply(NO_CLUSTER) };
  const approval = await approveAudited(confirmations, audit, { id: input.value, actor: input.actor, expect: { action: RUN_AUDIT_ACTION }, channel: input.channel });
  const rec = approval.record;
  const namespace = rec.data.namespace ?? rec.target.split('/')[0] ?? '';
  const name = rec.data.name ?? rec.target.split('/')[1] ?? '';
  const target = `${namespace}/${name}`;
  const requester = { id: rec.requester.id, name: rec.requester.name, via: rec.requester.via };
  const who = (id: string) => (input.actor.via === 'slack' ? `<@${id}>` : id);
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
  const abort = new AbortController();
  following.add(abort);
  void (async () => {
    let result: Reply;
    try {
      const o = await followManualSync(kube, namespace, name, token, before, follow, abort.signal);
      if (abort.signal.aborted) return;
      const extra = o.outcome === 'succeeded' ? await resumeSchedule(kube, o.rs, token) : undefined;
      result = outcomeReply(o, target, token, startedAt, Date.now(), extra);
      audit.record({
        actor: requester, action: RUN_AUDIT_ACTION, target, channel: input.channel, confirmedBy, ran,
        outcome: o.outcome === 'succeeded' ? 'succeeded' : 'failed',
        detail: o.outcome === 'succeeded' ? `lastManualSync=${token} duration=${o.rs.status?.lastSyncDuration ?? '?'}` : o.outcome,
      });
    } catch (err) {
      log.error({ err, target }, 'following a manual sync failed');
      result = errorReply(`I lost track of the backup of \`${target}\`; \`/backup status ${namespace} ${name}\` shows where it is.`);
    } finally {
      following.delete(abort);
    }
    try {
      await ctx.notify(result);
    } catch (err) {
      log.error({ err, target }, 'could not post the result of a manual sync');
    }
  })();
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

export async function cancelRun(input: ActionInput, ctx: CommandContext): Promise<ActionResult> {
  const { confirmations, audit, access } = ctx.services;
  const denied = await access.checkOperator(input.actor);
  if (denied) return { ephemeral: errorReply(denied) };
  const rec = await confirmations.cancel(input.value, input.actor);
  audit.record({ actor: { id: rec.requester.id, name: rec.requester.name, via: rec.requester.via }, action: RUN_AUDIT_ACTION, target: rec.target, channel: input.channel, confirmedBy: [input.actor], outcome: 'cancelled' });
  return { replace: { text: `Cancelled: no backup of ${rec.target} was started.`, blocks: [{ type: 'section', text: `Cancelled by ${input.actor.via === 'slack' ? `<@${input.actor.id}>` : input.actor.id}: no backup of \`${rec.target}\` was started.` }], visibility: 'channel', tone: 'info' } };
}
