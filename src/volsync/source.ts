/**
 * `app` → the ReplicationSource it means: by name, else by source PVC, else by the
 * `app.kubernetes.io/name` / `app` label. More than one match gets a list to choose from, none gets
 * the near misses; never a guess, because the next step may remove locks.
 */
import type { Kube } from '../kube/client.ts';
import { VOLSYNC, kubeErrorLine, statusCode } from '../kube/client.ts';
import { UserError } from '../errors.ts';
import { nearest } from '../backup/nearest.ts';

/** The fields /restic reads from a ReplicationSource. */
export interface UnlockSource {
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; labels?: Record<string, string> };
  spec?: {
    sourcePVC?: string;
    paused?: boolean;
    trigger?: { schedule?: string; manual?: string };
    restic?: {
      repository?: string;
      unlock?: string;
      customCA?: { secretName?: string; configMapName?: string; key?: string };
    };
  };
  status?: {
    lastManualSync?: string;
    latestMoverStatus?: { result?: string; logs?: string };
    restic?: { lastUnlocked?: string };
    conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }>;
  };
}

export const APP_LABELS = ['app.kubernetes.io/name', 'app'] as const;

export type SourceMatch =
  | { kind: 'found'; source: UnlockSource; by: 'name' | 'source PVC' | 'label' }
  | { kind: 'ambiguous'; sources: UnlockSource[]; by: 'source PVC' | 'label' }
  | { kind: 'none'; near: string[]; names: string[] };

const nameOf = (s: UnlockSource): string => s.metadata?.name ?? '';

/** The matching rule, pure, over the sources of one namespace. */
export function matchSource(sources: readonly UnlockSource[], app: string): SourceMatch {
  const byName = sources.find((s) => nameOf(s) === app);
  if (byName) return { kind: 'found', source: byName, by: 'name' };
  const byPvc = sources.filter((s) => s.spec?.sourcePVC === app);
  if (byPvc.length === 1) return { kind: 'found', source: byPvc[0]!, by: 'source PVC' };
  if (byPvc.length > 1) return { kind: 'ambiguous', sources: byPvc, by: 'source PVC' };
  const byLabel = sources.filter((s) => APP_LABELS.some((l) => s.metadata?.labels?.[l] === app));
  if (byLabel.length === 1) return { kind: 'found', source: byLabel[0]!, by: 'label' };
  if (byLabel.length > 1) return { kind: 'ambiguous', sources: byLabel, by: 'label' };

  // Near misses among everything the rule would have accepted, reported as the source's name.
  const aliases = new Map<string, string>();
  for (const s of sources) {
    const name = nameOf(s);
    for (const alias of [name, s.spec?.sourcePVC, ...APP_LABELS.map((l) => s.metadata?.labels?.[l])]) {
      if (alias && !aliases.has(alias)) aliases.set(alias, name);
    }
  }
  const near = [...new Set(nearest(app, aliases.keys(), 5).map((alias) => aliases.get(alias)!))].slice(0, 3);
  return { kind: 'none', near, names: sources.map(nameOf).sort() };
}

function describeChoice(s: UnlockSource): string {
  const labels = APP_LABELS.map((l) => s.metadata?.labels?.[l]).filter(Boolean);
  const extra = [s.spec?.sourcePVC ? `PVC \`${s.spec.sourcePVC}\`` : '', labels.length ? `app \`${labels[0]}\`` : ''].filter(Boolean).join(', ');
  return `\`${nameOf(s)}\`${extra ? ` (${extra})` : ''}`;
}

/** The one line for a match that is not a single source. */
export function matchProblem(match: Exclude<SourceMatch, { kind: 'found' }>, namespace: string, app: string, command: string): string {
  if (match.kind === 'ambiguous') {
    const shown = match.sources.slice(0, 8);
    return (
      `\`${app}\` matches ${match.sources.length} ReplicationSources in \`${namespace}\` by ${match.by}: ${shown.map(describeChoice).join(', ')}` +
      `${match.sources.length > shown.length ? ', …' : ''}. Name one: \`${command} ${namespace} ${nameOf(shown[0]!)}\`.`
    );
  }
  if (match.names.length === 0) return `No ReplicationSources in \`${namespace}\` (or no namespace \`${namespace}\`). \`/backup status\` lists them.`;
  const hint = match.near.length
    ? `Did you mean ${match.near.map((n) => `\`${command} ${namespace} ${n}\``).join(' or ')}?`
    : `Sources there: ${match.names.slice(0, 15).map((n) => `\`${n}\``).join(', ')}${match.names.length > 15 ? ', …' : ''}.`;
  return `No ReplicationSource in \`${namespace}\` is named \`${app}\`, backs up a PVC \`${app}\` or carries the label app=${app}. ${hint}`;
}

export async function listNamespaceSources(kube: Kube, namespace: string): Promise<UnlockSource[]> {
  try {
    const res = (await kube.custom.listNamespacedCustomObject({ group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources, namespace })) as { items?: UnlockSource[] };
    return res.items ?? [];
  } catch (err) {
    if (statusCode(err) === 404) {
      throw new UserError('VolSync is not installed on this cluster: the ReplicationSource CRD (replicationsources.volsync.backube) was not found. Install VolSync, or check that the bot uses the right kube context.');
    }
    throw new UserError(kubeErrorLine(err, `list ReplicationSources in ${namespace}`, kube));
  }
}

/** Resolves `app` in `namespace`, or throws a UserError with the choices or the near misses. */
export async function resolveSource(kube: Kube, namespace: string, app: string, command: string): Promise<UnlockSource> {
  const match = matchSource(await listNamespaceSources(kube, namespace), app);
  if (match.kind !== 'found') throw new UserError(matchProblem(match, namespace, app, command));
  return match.source;
}

/** Reads one source again (it may have changed or gone since it was resolved). */
export async function readSource(kube: Kube, namespace: string, name: string): Promise<UnlockSource | undefined> {
  try {
    return (await kube.custom.getNamespacedCustomObject({ group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources, namespace, name })) as UnlockSource;
  } catch (err) {
    if (statusCode(err) === 404) return undefined;
    throw new UserError(kubeErrorLine(err, `read ReplicationSource ${namespace}/${name}`, kube));
  }
}

export const sourceKey = (s: UnlockSource): string => `${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`;
