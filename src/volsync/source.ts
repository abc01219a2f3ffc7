/**
 * VolSync's ReplicationSource: the one type, reading and listing, and the one rule every command
 * uses to find the source a person means.
 *
 * `app` → the ReplicationSource it means: by name, else by source PVC, else by the
 * `app.kubernetes.io/name` / `app` label. More than one match gets a list to choose from, none gets
 * the near misses; never a guess, because the next step may remove locks.
 */
import type { Kube } from '../kube/client.ts';
import { VOLSYNC, kubeErrorLine, statusCode } from '../kube/client.ts';
import { UserError } from '../errors.ts';
import { nearest } from '../backup/nearest.ts';
import { VOLSYNC_MISSING, withTimeout } from '../backup/inventory.ts';
import type { Condition, Meta, Time } from '../backup/objects.ts';

/**
 * The one ReplicationSource type: the fields the bot reads (status, run, unlock, the window).
 * Objects arrive from a typed list or a watch, so times are `Time` (string or Date): read them with `ms()`.
 */
export interface ReplicationSource {
  metadata?: Meta;
  spec?: {
    sourcePVC?: string;
    paused?: boolean;
    trigger?: { schedule?: string; manual?: string };
    restic?: {
      repository?: string;
      unlock?: string;
      customCA?: { secretName?: string; configMapName?: string; key?: string };
    };
    [k: string]: unknown;
  };
  status?: {
    lastSyncTime?: Time;
    lastSyncStartTime?: Time;
    lastSyncDuration?: string;
    nextSyncTime?: Time;
    lastManualSync?: string;
    latestMoverStatus?: { result?: string; logs?: string };
    restic?: { lastUnlocked?: string };
    conditions?: Condition[];
  };
}

export const APP_LABELS = ['app.kubernetes.io/name', 'app'] as const;

export type SourceMatch =
  | { kind: 'found'; source: ReplicationSource; by: 'name' | 'source PVC' | 'label' }
  | { kind: 'ambiguous'; sources: ReplicationSource[]; by: 'source PVC' | 'label' }
  | { kind: 'none'; near: string[]; names: string[] };

const nameOf = (s: ReplicationSource): string => s.metadata?.name ?? '';

/** The matching rule, pure, over the sources of one namespace. */
export function matchSource(sources: readonly ReplicationSource[], app: string): SourceMatch {
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

function describeChoice(s: ReplicationSource): string {
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

export async function listNamespaceSources(kube: Kube, namespace: string): Promise<ReplicationSource[]> {
  try {
    const res = (await kube.custom.listNamespacedCustomObject({ group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources, namespace })) as { items?: ReplicationSource[] };
    return res.items ?? [];
  } catch (err) {
    if (statusCode(err) === 404) {
      throw new UserError(VOLSYNC_MISSING, 'not-found');
    }
    throw new UserError(kubeErrorLine(err, `list ReplicationSources in ${namespace}`, kube));
  }
}

/** Resolves `app` in `namespace`, or throws a UserError with the choices or the near misses. */
export async function resolveSource(kube: Kube, namespace: string, app: string, command: string): Promise<ReplicationSource> {
  const match = matchSource(await listNamespaceSources(kube, namespace), app);
  if (match.kind !== 'found') throw new UserError(matchProblem(match, namespace, app, command), match.kind === 'ambiguous' ? 'ambiguous' : 'not-found');
  return match.source;
}

/**
 * Reads one source again (it may have changed or gone since it was resolved): undefined when it
 * is gone; a UserError when VolSync is not installed or the API refuses.
 */
export async function readSource(kube: Kube, namespace: string, name: string): Promise<ReplicationSource | undefined> {
  try {
    return (await withTimeout(kube.custom.getNamespacedCustomObject({ group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources, namespace, name }), 15_000, 'read source')) as ReplicationSource;
  } catch (err) {
    if (statusCode(err) === 404) {
      // 404 for the object, or for the whole resource when VolSync is not installed.
      const raw = (err as { body?: unknown }).body;
      const body = typeof raw === 'string' ? raw : JSON.stringify(raw ?? '');
      if (/the server could not find the requested resource/i.test(body) && !/replicationsources\.volsync\.backube "/.test(body)) throw new UserError(VOLSYNC_MISSING, 'not-found');
      return undefined;
    }
    throw new UserError(kubeErrorLine(err, `read ReplicationSource ${namespace}/${name}`, kube));
  }
}
