/**
 * The running bot's view of backups, kept current by cluster-wide watches (one per kind, label
 * selectors where they narrow it down), so /backup status answers without asking the API server.
 * While a required collection is not synced, callers fall back to direct lists (listInventory).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Kube } from '../kube/client.ts';
import { LONGHORN, PERCONA, VOLSYNC } from '../kube/client.ts';
import { WatchedList } from '../kube/watched-list.ts';
import type { WatchedListOptions, WatchedListState } from '../kube/watched-list.ts';
import type { Inventory } from './inventory.ts';
import { JOB_POD_SELECTOR, VOLSYNC_JOB_SELECTOR } from './inventory.ts';
import type { Job, LonghornVolume, PerconaBackup, PerconaRestore, Pod, Pvc, ReplicationSource } from './objects.ts';

type Obj = KubernetesObject;

/** Failures that retrying will not fix soon: no credentials, no permission. */
const permanent = (code: number | undefined): boolean => code === 401 || code === 403;
type Listed = Promise<{ items: Obj[]; metadata?: { resourceVersion?: string } }>;

export interface BackupCacheOptions {
  backoff?: WatchedListOptions<Obj>['backoff'];
}

export class BackupCache {
  readonly sources: WatchedList<Obj>;
  readonly pods: WatchedList<Obj>;
  readonly jobs: WatchedList<Obj>;
  readonly pvcs: WatchedList<Obj>;
  readonly volumes: WatchedList<Obj>;
  readonly perconaBackups: WatchedList<Obj>;
  readonly perconaRestores: WatchedList<Obj>;
  readonly kube: Kube;
  #required: WatchedList<Obj>[];
  #optional: WatchedList<Obj>[];

  constructor(kube: Kube, log: Logger, opts: BackupCacheOptions = {}) {
    this.kube = kube;
    const make = (what: string, path: string, list: () => Promise<unknown>, labelSelector?: string) =>
      new WatchedList<Obj>({ what, kc: kube.kc, path, list: list as () => Listed, labelSelector, log: log.child({ component: 'backup-cache' }), backoff: opts.backoff });
    const custom = (group: string, version: string, plural: string) => `/apis/${group}/${version}/${plural}`;
    this.sources = make('ReplicationSources', custom(VOLSYNC.group, VOLSYNC.version, VOLSYNC.sources),
      () => kube.custom.listClusterCustomObject({ group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources }));
    this.pods = make('mover pods', '/api/v1/pods', () => kube.core.listPodForAllNamespaces({ labelSelector: JOB_POD_SELECTOR }), JOB_POD_SELECTOR);
    this.jobs = make('mover Jobs', '/apis/batch/v1/jobs', () => kube.batch.listJobForAllNamespaces({ labelSelector: VOLSYNC_JOB_SELECTOR }), VOLSYNC_JOB_SELECTOR);
    this.pvcs = make('PersistentVolumeClaims', '/api/v1/persistentvolumeclaims', () => kube.core.listPersistentVolumeClaimForAllNamespaces());
    this.volumes = make('Longhorn volumes', `/apis/${LONGHORN.group}/${LONGHORN.version}/namespaces/${LONGHORN.namespace}/${LONGHORN.volumes}`,
      () => kube.custom.listNamespacedCustomObject({ group: LONGHORN.group, version: LONGHORN.version, plural: LONGHORN.volumes, namespace: LONGHORN.namespace }));
    this.perconaBackups = make('Percona backups', custom(PERCONA.group, PERCONA.version, PERCONA.backups),
      () => kube.custom.listClusterCustomObject({ group: PERCONA.group, version: PERCONA.version, plural: PERCONA.backups }));
    this.perconaRestores = make('Percona restores', custom(PERCONA.group, PERCONA.version, PERCONA.restores),
      () => kube.custom.listClusterCustomObject({ group: PERCONA.group, version: PERCONA.version, plural: PERCONA.restores }));
    this.#required = [this.sources, this.pods, this.jobs, this.pvcs];
    this.#optional = [this.volumes, this.perconaBackups, this.perconaRestores];
  }

  start(): void {
    for (const l of [...this.#required, ...this.#optional]) l.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#required, ...this.#optional].map((l) => l.stop()));
  }

  /** `listener` runs after any collection changes or (re)syncs; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    const offs = [...this.#required, ...this.#optional].map((l) => l.onChange(listener));
    return () => {
      for (const off of offs) off();
    };
  }

  states(): Record<string, WatchedListState> {
    return Object.fromEntries([...this.#required, ...this.#optional].map((l) => [l.what, l.state]));
  }

  /**
   * True while a collection has not completed its first sync yet (still listing, or retrying a
   * transient failure): a command then waits for the cache rather than listing everything twice.
   */
  get starting(): boolean {
    return [...this.#required, ...this.#optional].some((l) => l.syncedAt === undefined && l.state !== 'absent' && !(l.state === 'failed' && permanent(l.errorCode)) && l.state !== 'stopped' && l.state !== 'idle');
  }

  /**
   * Required collections synced; optional ones (Longhorn, Percona) synced, not installed, or
   * forbidden (said in a note). A transient failure of an optional one (429 while the API
   * server's watch cache initialises, 5xx) means "not synced": direct lists answer meanwhile.
   */
  get synced(): boolean {
    return this.#required.every((l) => l.synced) && this.#optional.every((l) => l.synced || l.state === 'absent' || (l.state === 'failed' && permanent(l.errorCode)));
  }

  /** Waits until synced (see `synced`), up to `timeoutMs`; false when the time ran out. */
  async whenSynced(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.synced && Date.now() < deadline) {
      const pending = [...this.#required, ...this.#optional].find((l) => l.state === 'syncing');
      // Wait on a list in flight, else (a retry is scheduled) a moment before looking again.
      if (pending) await pending.whenSynced(Math.min(1000, Math.max(0, deadline - Date.now())));
      else await new Promise((r) => setTimeout(r, Math.min(50, Math.max(0, deadline - Date.now()))));
    }
    return this.synced;
  }

  /** The inventory from the cache, or undefined when it is not synced (then list directly). */
  inventory(namespace?: string): Inventory | undefined {
    if (!this.synced) return undefined;
    const notes: string[] = [];
    const optional = (l: WatchedList<Obj>) => {
      if (l.synced) return [...l.list(l === this.volumes ? undefined : namespace)];
      if (l.state === 'failed' && l.lastError && permanent(l.errorCode)) notes.push(l.lastError);
      return undefined;
    };
    const volumes = optional(this.volumes) as LonghornVolume[] | undefined;
    const backups = optional(this.perconaBackups) as PerconaBackup[] | undefined;
    const restores = optional(this.perconaRestores) as PerconaRestore[] | undefined;
    return {
      from: 'cache',
      at: Date.now(),
      sources: [...this.sources.list(namespace)] as ReplicationSource[],
      pods: [...this.pods.list(namespace)] as Pod[],
      jobs: [...this.jobs.list(namespace)] as Job[],
      pvcs: [...this.pvcs.list(namespace)] as Pvc[],
      volumes,
      percona: backups || restores ? { backups: backups ?? [], restores: restores ?? [] } : undefined,
      notes,
    };
  }
}
