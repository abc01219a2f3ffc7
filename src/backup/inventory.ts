/**
 * Everything /backup status looks at, in one value: ReplicationSources, their mover Jobs and Pods,
 * PVCs, Longhorn volumes and Percona backups/restores. It comes from the watch cache when that is
 * synced, else from direct lists. Either way the number of API requests is fixed: cluster-wide
 * lists with label selectors, never a loop over namespaces.
 */
import type { Kube } from '../kube/client.ts';
import { LONGHORN, PERCONA, VOLSYNC, kubeErrorLine, statusCode } from '../kube/client.ts';
import { UserError } from '../errors.ts';
import type { Job, LonghornVolume, PerconaBackup, PerconaRestore, Pod, Pvc, ReplicationSource } from './objects.ts';

/** Job pods (VolSync's movers among them): the Job controller labels every pod it creates. */
export const JOB_POD_SELECTOR = 'job-name';
/** VolSync marks the Jobs it creates (utils.SetOwnedByVolSync). */
export const VOLSYNC_JOB_SELECTOR = 'app.kubernetes.io/created-by=volsync';

export interface Inventory {
  from: 'cache' | 'live';
  /** When the data was read. */
  at: number;
  sources: ReplicationSource[];
  /** Job pods in scope; VolSync's movers among them (src/volsync/mover-pods.ts). */
  pods: Pod[];
  jobs: Job[];
  pvcs: Pvc[];
  /** undefined: Longhorn is not installed or its volumes could not be read (see notes). */
  volumes?: LonghornVolume[];
  /** undefined: the Percona CRDs are not installed. */
  percona?: { backups: PerconaBackup[]; restores: PerconaRestore[] };
  /** Partial failures worth a line in the reply ("could not read pods: RBAC forbids …"). */
  notes: string[];
}

const LIST_TIMEOUT_MS = 30_000;

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} timed out`), { name: 'TimeoutError' })), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

type Items<T> = { items?: T[] };

/** The one line for a missing VolSync CRD, shared by status, doctor and run. */
export const VOLSYNC_MISSING =
  'VolSync is not installed on this cluster: the ReplicationSource CRD (replicationsources.volsync.backube) was not found. Install VolSync, or check that the bot uses the right kube context.';

export async function listSources(kube: Kube, namespace?: string): Promise<ReplicationSource[]> {
  const what = namespace ? `list ReplicationSources in ${namespace}` : 'list ReplicationSources';
  try {
    const res = (await withTimeout(
      namespace
        ? kube.custom.listNamespacedCustomObject({ group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources, namespace })
        : kube.custom.listClusterCustomObject({ group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources }),
      LIST_TIMEOUT_MS,
      what,
    )) as Items<ReplicationSource>;
    return res.items ?? [];
  } catch (err) {
    if (statusCode(err) === 404) throw new UserError(VOLSYNC_MISSING);
    throw new UserError(kubeErrorLine(err, what, kube));
  }
}

export async function listInventory(kube: Kube, namespace?: string): Promise<Inventory> {
  const notes: string[] = [];
  const optional = async <T>(what: string, fn: () => Promise<unknown>, onMissing?: () => void): Promise<T[] | undefined> => {
    try {
      return ((await withTimeout(fn(), LIST_TIMEOUT_MS, what)) as Items<T>).items ?? [];
    } catch (err) {
      if (statusCode(err) === 404 && onMissing) {
        onMissing();
        return undefined;
      }
      notes.push(kubeErrorLine(err, what, kube));
      return undefined;
    }
  };
  const ns = namespace;
  const [sources, pods, jobs, pvcs, volumes, backups, restores] = await Promise.all([
    listSources(kube, ns),
    optional<Pod>('list mover pods', () => (ns
      ? kube.core.listNamespacedPod({ namespace: ns, labelSelector: JOB_POD_SELECTOR })
      : kube.core.listPodForAllNamespaces({ labelSelector: JOB_POD_SELECTOR }))),
    optional<Job>('list mover Jobs', () => (ns
      ? kube.batch.listNamespacedJob({ namespace: ns, labelSelector: VOLSYNC_JOB_SELECTOR })
      : kube.batch.listJobForAllNamespaces({ labelSelector: VOLSYNC_JOB_SELECTOR }))),
    optional<Pvc>('list PersistentVolumeClaims', () => (ns
      ? kube.core.listNamespacedPersistentVolumeClaim({ namespace: ns })
      : kube.core.listPersistentVolumeClaimForAllNamespaces())),
    optional<LonghornVolume>('list Longhorn volumes', () => kube.custom.listNamespacedCustomObject({
      group: LONGHORN.group, version: LONGHORN.version, plural: LONGHORN.volumes, namespace: LONGHORN.namespace,
    }), () => {}),
    optional<PerconaBackup>('list Percona backups', () => (ns
      ? kube.custom.listNamespacedCustomObject({ group: PERCONA.group, version: PERCONA.version, plural: PERCONA.backups, namespace: ns })
      : kube.custom.listClusterCustomObject({ group: PERCONA.group, version: PERCONA.version, plural: PERCONA.backups })), () => {}),
    optional<PerconaRestore>('list Percona restores', () => (ns
      ? kube.custom.listNamespacedCustomObject({ group: PERCONA.group, version: PERCONA.version, plural: PERCONA.restores, namespace: ns })
      : kube.custom.listClusterCustomObject({ group: PERCONA.group, version: PERCONA.version, plural: PERCONA.restores })), () => {}),
  ]);
  return {
    from: 'live',
    at: Date.now(),
    sources,
    pods: pods ?? [],
    jobs: jobs ?? [],
    pvcs: pvcs ?? [],
    volumes,
    percona: backups || restores ? { backups: backups ?? [], restores: restores ?? [] } : undefined,
    notes,
  };
}
