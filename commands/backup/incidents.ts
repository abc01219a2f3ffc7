/**
 * `/backup incidents`: the open backup incidents, each with its problem, since when and a link to
 * its thread. A running Slack bot reads them from the watch's store (src/backup/incident-store.ts);
 * the terminal has no threads, so it works out the problems now from the cluster with the watch's
 * own detection (src/backup/incidents.ts) and lists them.
 */
import type { CommandContext } from '../../src/command/context.ts';
import type { BackupCache } from '../../src/backup/backup-cache.ts';
import type { IncidentRecord, IncidentStore } from '../../src/backup/incident-store.ts';
import type { Block, Reply } from '../../src/reply.ts';
import { errorReply, reply } from '../../src/reply.ts';
import { threadLink } from '../../src/backup/thread-link.ts';
import { NO_CLUSTER, UserError } from '../../src/errors.ts';
import { getInventory } from '../../src/backup/status.ts';
import { detectProblems, watchSettings } from '../../src/backup/incidents.ts';
import { classifyMoverLog } from '../../src/backup/source-diagnosis.ts';
import { duration, plural, whenIn } from '../../src/text.ts';
import { kubeErrorLine } from '../../src/kube/client.ts';

export interface IncidentsDeps {
  cache?: BackupCache | undefined;
  /** The watch's store, when the watch runs (Slack modes). */
  store?: IncidentStore | undefined;
}

const MAX_LISTED = 40;

function since(at: number, now: number): string {
  return `since ${whenIn(new Date(at), 'UTC', new Date(now))} (${duration(now - at)})`;
}

export const incidentsCommand = (deps: IncidentsDeps) => async (_cmd: unknown, ctx: CommandContext): Promise<Reply> => {
  const now = ctx.now().getTime();
  if (deps.store) {
    let open: IncidentRecord[];
    try {
      open = (await deps.store.all()).filter((r) => r.resolvedAt === undefined && r.ts !== '').sort((a, b) => a.since - b.since);
    } catch (err) {
      return errorReply(err instanceof UserError ? err.message : `Could not read the incidents from ${deps.store.where}: ${(err as Error).message.split('\n')[0]}`);
    }
    if (!open.length) return reply('No open backup incidents: every watched source is healthy.', [{ type: 'section', text: ':large_green_circle: No open backup incidents: every watched source is healthy.' }], { tone: 'ok' });
    const lines = await Promise.all(open.slice(0, MAX_LISTED).map(async (r) => {
      const [ns, name] = r.id.split('/');
      return `• *${ns}/${name}*: ${r.what ?? r.kind}${r.headline ? ` — ${r.headline}` : ''}, ${since(r.since, now)} · ${await threadLink(ctx.services.slack?.client, r)}`;
    }));
    if (open.length > MAX_LISTED) lines.push(`…and ${open.length - MAX_LISTED} more.`);
    const head = `${plural(open.length, 'open backup incident')}`;
    return reply(head, [{ type: 'section', text: `:red_circle: *${head}*` }, { type: 'section', text: lines.join('\n') }], { tone: 'error' });
  }
  const kube = ctx.services.kube;
  if (!kube) return errorReply(NO_CLUSTER);
  let inv;
  try {
    inv = await getInventory({ kube, cache: deps.cache, now: ctx.now }, kube);
  } catch (err) {
    return errorReply(err instanceof UserError ? err.message : kubeErrorLine(err, 'list the backups', kube));
  }
  const settings = watchSettings(ctx.services.config);
  const { problems, notes } = detectProblems(inv, now, settings);
  // What the watch would open once its grace runs out (a PVC labelled minutes ago): said apart, not hidden.
  const ids = new Set(problems.map((p) => p.id));
  const soon = detectProblems(inv, now, { ...settings, overdueGraceMs: 0, stuckMs: 0, unprotectedGraceMs: 0 }).problems
    .filter((p) => !ids.has(p.id) && (p.kind === 'unprotected' || p.kind === 'stuck'));
  const blocks: Block[] = [];
  const head = problems.length ? `${plural(problems.length, 'backup problem')} now` : 'No backup problems now: every watched source is healthy.';
  blocks.push({ type: 'section', text: problems.length ? `:red_circle: *${head}* (worked out from the cluster; incident threads exist only where the bot runs in Slack)` : `:large_green_circle: ${head}` });
  const lines = problems.slice(0, MAX_LISTED).map((p) => {
    const logs = p.health?.source.status?.latestMoverStatus?.logs;
    const cause = p.kind === 'failing' && typeof logs === 'string' ? classifyMoverLog(logs, { namespace: p.namespace, name: p.name, pods: p.health?.pods ?? [] })?.headline : undefined;
    return `• *${p.namespace}/${p.name}*: ${p.what}${cause ? ` — ${cause}` : ''}, ${since(p.since, now)}`;
  });
  if (problems.length > MAX_LISTED) lines.push(`…and ${problems.length - MAX_LISTED} more.`);
  if (lines.length) blocks.push({ type: 'section', text: lines.join('\n') });
  if (soon.length) {
    const grace = (p: (typeof soon)[number]) => (p.kind === 'unprotected' ? `watch.unprotectedGraceMinutes ${ctx.services.config.watch.unprotectedGraceMinutes}` : `watch.stuckMinutes ${ctx.services.config.watch.stuckMinutes}`);
    blocks.push({ type: 'section', text: `*Not incidents yet* (within the watch's grace):\n${soon.slice(0, MAX_LISTED).map((p) => `• *${p.namespace}/${p.name}*: ${p.what}, ${since(p.since, now)} (${grace(p)})`).join('\n')}` });
  }
  if (notes.length) blocks.push({ type: 'context', elements: notes.slice(0, 5) });
  return reply(head, blocks, { tone: problems.length ? 'error' : 'ok' });
};
