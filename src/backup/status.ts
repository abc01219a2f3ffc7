/**
 * /backup status [namespace] [name]: gather (cache or direct lists), judge every source, look up
 * why stuck movers are stuck, check Percona restore locks, and hand the result to the renderer.
 */
import type { Kube } from '../kube/client.ts';
import { kubeErrorLine, statusCode } from '../kube/client.ts';
import type { Reply } from '../reply.ts';
import { errorReply } from '../reply.ts';
import { UserError } from '../errors.ts';
import type { BackupCache } from './backup-cache.ts';
import type { Inventory } from './inventory.ts';
import { listInventory, listSources, withTimeout } from './inventory.ts';
import { nearest } from './nearest.ts';
import { matchProblem, matchSource } from '../volsync/source.ts';
import type { ReplicationSource } from './objects.ts';
import { nameOf, namespaceOf } from './objects.ts';
import type { PerconaReport } from './percona.ts';
import { listRestoreLeases, perconaReport } from './percona.ts';
import type { SourceHealth } from './source-health.ts';
import { evaluateAll } from './source-health.ts';
import { stuckReasons } from './stuck-reasons.ts';
import { renderSourceDetail, renderStatus } from './status-reply.ts';
import { NO_CLUSTER } from '../errors.ts';

export interface StatusDeps {
  kube?: Kube;
  cache?: BackupCache;
  now: () => Date;
  /** How long a command waits for the cache's first sync before listing directly (default 20 s). */
  cacheWaitMs?: number;
}

export interface StatusArgs {
  namespace?: string;
  name?: string;
}

export interface StatusData {
  inventory: Inventory;
  health: SourceHealth[];
  /** pod ns/name → why it is stuck. */
  stuck: Map<string, string>;
  percona?: PerconaReport;
  notes: string[];
}

/** What a cluster command answers without a cluster (src/text.ts). */
export { NO_CLUSTER };

/** The inventory from the synced cache, waiting briefly for a first sync in progress, else direct lists. */
export async function getInventory(deps: StatusDeps, kube: Kube, namespace?: string): Promise<Inventory> {
  const cache = deps.cache;
  if (cache && cache.kube === kube) {
    const inv = cache.inventory(namespace);
    if (inv) return inv;
    // Right after start-up the first lists are already on their way: waiting for them costs less
    // than listing everything a second time.
    if (cache.starting && (await cache.whenSynced(deps.cacheWaitMs ?? 20_000))) {
      const again = cache.inventory(namespace);
      if (again) return again;
    }
  }
  return listInventory(kube, namespace);
}

async function namespaceExists(kube: Kube, namespace: string): Promise<boolean | undefined> {
  try {
    await withTimeout(kube.core.readNamespace({ name: namespace }), 10_000, 'read namespace');
    return true;
  } catch (err) {
    return statusCode(err) === 404 ? false : undefined;
  }
}

/** Every source cluster-wide, for suggestions: from the cache when synced, else one list. */
async function allSources(deps: StatusDeps, kube: Kube): Promise<ReplicationSource[]> {
  if (deps.cache?.kube === kube && deps.cache.sources.synced) return [...deps.cache.sources.list()] as ReplicationSource[];
  try {
    return await listSources(kube);
  } catch {
    return [];
  }
}

export async function unknownNamespaceReply(deps: StatusDeps, kube: Kube, namespace: string, command: string): Promise<Reply> {
  const [exists, sources] = await Promise.all([namespaceExists(kube, namespace), allSources(deps, kube)]);
  const withSources = [...new Set(sources.map(namespaceOf))].sort();
  const near = nearest(namespace, withSources);
  const first = exists === false
    ? `There is no namespace \`${namespace}\`.`
    : `Namespace \`${namespace}\` has no ReplicationSources${exists === undefined ? ' (or it does not exist)' : ''}.`;
  const lines = [first];
  if (near.length) lines.push(`Did you mean ${near.map((n) => `\`${command} ${n}\``).join(' or ')}?`);
  else if (withSources.length) lines.push(`Namespaces with backups: ${withSources.slice(0, 15).map((n) => `\`${n}\``).join(', ')}${withSources.length > 15 ? `, and ${withSources.length - 15} more` : ''}.`);
  else lines.push('No namespace has a ReplicationSource yet.');
  return { text: lines.join(' '), blocks: [{ type: 'section', text: `:warning: ${lines.join('\n')}` }], visibility: 'ephemeral', tone: 'error' };
}

export function unknownSourceReply(namespace: string, name: string, match: { near: string[]; names: string[] }, command: string): Reply {
  const names = match.names;
  const near = match.near;
  const lines = [`No ReplicationSource \`${name}\` in \`${namespace}\`.`];
  if (near.length) lines.push(`Did you mean ${near.map((n) => `\`${command} ${namespace} ${n}\``).join(' or ')}?`);
  else lines.push(`Sources in \`${namespace}\`: ${names.slice(0, 20).map((n) => `\`${n}\``).join(', ')}${names.length > 20 ? `, and ${names.length - 20} more` : ''}.`);
  return { text: lines.join(' '), blocks: [{ type: 'section', text: `:warning: ${lines.join('\n')}` }], visibility: 'ephemeral', tone: 'error' };
}

/**
 * The one resolve rule (src/volsync/source.ts: name, then source PVC, then app label) over the
 * sources of `namespace`: the source, or the reply listing the choices or the near matches.
 */
export function resolveReply(sources: readonly ReplicationSource[], namespace: string, name: string, command: string): { source: ReplicationSource } | { reply: Reply } {
  const match = matchSource(sources.filter((s) => namespaceOf(s) === namespace), name);
  if (match.kind === 'found') return { source: match.source };
  if (match.kind === 'ambiguous') return { reply: errorReply(matchProblem(match, namespace, name, command)) };
  return { reply: unknownSourceReply(namespace, name, match, command) };
}

export async function gatherStatus(deps: StatusDeps, kube: Kube, inv: Inventory, now: number): Promise<StatusData> {
  const health = evaluateAll(inv, now);
  const notes = [...inv.notes];
  // Problems first: look up events only for the stuck movers of sources shown as problems.
  const stuckPods = health.filter((h) => h.state !== 'healthy').flatMap((h) => h.stuckPods);
  const [stuck, percona] = await Promise.all([
    stuckReasons(kube, stuckPods),
    (async (): Promise<PerconaReport | undefined> => {
      if (!inv.percona) return undefined;
      const { backups, restores } = inv.percona;
      if (!backups.length && !restores.length) return perconaReport([], [], [], now);
      const namespaces = new Set([...backups, ...restores].map(namespaceOf));
      const { leases, note } = await listRestoreLeases(kube, namespaces.size === 1 ? [...namespaces][0] : undefined);
      if (note) notes.push(note);
      return perconaReport(backups, restores, leases, now);
    })(),
  ]);
  return { inventory: inv, health, stuck, percona, notes };
}

export async function backupStatus(deps: StatusDeps, args: StatusArgs): Promise<Reply> {
  const kube = deps.kube;
  if (!kube) return errorReply(NO_CLUSTER);
  const { namespace, name } = args;
  let inv: Inventory;
  try {
    inv = await getInventory(deps, kube, namespace);
  } catch (err) {
    return errorReply(err instanceof UserError ? err.message : kubeErrorLine(err, 'read backup status', kube));
  }
  if (namespace && inv.sources.length === 0) return unknownNamespaceReply(deps, kube, namespace, '/backup status');
  const now = deps.now().getTime();
  if (namespace && name) {
    const found = resolveReply(inv.sources, namespace, name, '/backup status');
    if ('reply' in found) return found.reply;
    const data = await gatherStatus(deps, kube, { ...inv, sources: [found.source] }, now);
    return renderSourceDetail(data, now);
  }
  const data = await gatherStatus(deps, kube, inv, now);
  return renderStatus(data, { namespace, now, server: kube.server });
}
