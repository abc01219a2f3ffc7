/**
 * Objects for the /backup integration tests on a real API server, in the shared vocabulary of
 * test/harness/kube-objects.ts, plus what only /backup needs (Jobs, events, Longhorn volumes,
 * Percona objects, Leases) and cleanup of what a test file created.
 */
import { randomBytes } from 'node:crypto';
import type { Kube } from '../../src/kube/client.ts';
import { LONGHORN, PERCONA, VOLSYNC } from '../../src/kube/client.ts';
import { createNamespace, createPodWithStatus, createPvc, createReplicationSource, createSecret, getSource, HOUR, iso, kubeWithNamespaces, MERGE, micro, sourceStatus, syncCondition } from '../harness/kube-objects.ts';
import type { SourceObject } from '../harness/kube-objects.ts';
import type { KubeHarness } from '../harness/kube/index.ts';

export { HOUR, iso, kubeFor, MERGE, micro, MINUTE, moverLabels, syncCondition, uniq } from '../harness/kube-objects.ts';

/** A test file's API server and Fixtures on it, with these (unlabelled) namespaces, removed by fx.cleanup(). */
export async function kubeFixtures(...namespaces: string[]): Promise<{ harness: KubeHarness; fx: Fixtures }> {
  const { harness, kube } = await kubeWithNamespaces();
  const fx = new Fixtures(kube);
  for (const namespace of namespaces) await fx.namespace(namespace);
  return { harness, fx };
}

/** The status VolSync leaves after a successful scheduled sync at `at`: waiting for the next one. */
export function syncedStatus(at: number, o: { duration?: string; logs?: string } = {}): Record<string, unknown> {
  return {
    lastSyncTime: iso(at), lastSyncDuration: o.duration ?? '10s', latestMoverStatus: { result: 'Successful', logs: o.logs ?? 'ok' },
    conditions: [syncCondition('False', 'WaitingForSchedule', 'Waiting for next scheduled synchronization', at)],
  };
}

export class Fixtures {
  readonly kube: Kube;
  #namespaces: string[] = [];
  #volumes: string[] = [];

  constructor(kube: Kube) {
    this.kube = kube;
  }

  async namespace(name: string, labels: Record<string, string> = {}): Promise<void> {
    await createNamespace(this.kube, name, labels);
    this.#namespaces.push(name);
  }

  /**
   * Removes what this file created from a shared server: other test files look at cluster-wide
   * state (running movers, faulted volumes). Namespaces stay Terminating (no namespace
   * controller), so their contents are deleted explicitly.
   */
  async cleanup(): Promise<void> {
    const quiet = (p: Promise<unknown>) => p.catch(() => undefined);
    await Promise.all(this.#namespaces.map(async (namespace) => {
      await quiet(this.kube.core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 }));
      await quiet(this.kube.batch.deleteCollectionNamespacedJob({ namespace }));
      for (const [group, version, plural] of [[VOLSYNC.group, VOLSYNC.version, VOLSYNC.sources], [PERCONA.group, PERCONA.version, PERCONA.backups], [PERCONA.group, PERCONA.version, PERCONA.restores]] as const) {
        await quiet(this.kube.custom.deleteCollectionNamespacedCustomObject({ group, version, plural, namespace }));
      }
      await quiet(this.kube.core.deleteCollectionNamespacedPersistentVolumeClaim({ namespace }));
      await quiet(this.kube.core.deleteNamespace({ name: namespace }));
    }));
    await Promise.all(this.#volumes.map((name) => quiet(this.kube.custom.deleteNamespacedCustomObject({ group: LONGHORN.group, version: LONGHORN.version, plural: LONGHORN.volumes, namespace: LONGHORN.namespace, name }))));
  }

  async pvc(namespace: string, name: string, o: { labels?: Record<string, string>; volumeName?: string; accessModes?: string[] } = {}): Promise<void> {
    await createPvc(this.kube, namespace, name, o);
  }

  async source(namespace: string, name: string, spec: Record<string, unknown>, status?: Record<string, unknown>): Promise<void> {
    await createReplicationSource(this.kube, namespace, name, spec, status ? { status } : {});
  }

  /** A PVC and a source backing it up on `schedule`, its last scheduled sync a success at `at`. */
  async syncedSource(namespace: string, name: string, o: { pvc: string; schedule: string; at: number }): Promise<void> {
    await this.pvc(namespace, o.pvc);
    await this.source(namespace, name, { sourcePVC: o.pvc, trigger: { schedule: o.schedule } }, syncedStatus(o.at));
  }

  async sourceStatus(namespace: string, name: string, status: Record<string, unknown>): Promise<void> {
    await sourceStatus(this.kube, namespace, name, status);
  }

  async getSource(namespace: string, name: string): Promise<SourceObject> {
    return getSource(this.kube, namespace, name);
  }

  /** A mover (or any job) pod; unscheduled, so deleting it is immediate. */
  async pod(namespace: string, name: string, labels: Record<string, string>, status: Record<string, unknown>, claim?: string): Promise<void> {
    await createPodWithStatus(this.kube, namespace, name, labels, status, claim);
  }

  async job(namespace: string, name: string, labels: Record<string, string>, o: { backoffLimit?: number; status?: Record<string, unknown> } = {}): Promise<void> {
    await this.kube.batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name, labels },
        spec: {
          backoffLimit: o.backoffLimit ?? 8,
          template: { metadata: { labels }, spec: { restartPolicy: 'Never', containers: [{ name: 'restic', image: 'quay.io/backube/volsync:0.13.0' }] } },
        },
      },
    });
    if (o.status) await this.kube.batch.patchNamespacedJobStatus({ namespace, name, body: { status: o.status } }, MERGE);
  }

  async event(namespace: string, pod: string, e: { reason: string; message: string; type?: string; count?: number; at: number }): Promise<void> {
    await this.kube.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { name: `${pod}.${randomBytes(4).toString('hex')}` },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace, name: pod },
        reason: e.reason,
        message: e.message,
        type: e.type ?? 'Warning',
        count: e.count ?? 1,
        firstTimestamp: new Date(e.at - HOUR),
        lastTimestamp: new Date(e.at),
        source: { component: 'attachdetach-controller' },
      },
    });
  }

  async longhornVolume(name: string, status: Record<string, unknown>): Promise<void> {
    const ns = LONGHORN.namespace;
    this.#volumes.push(name);
    await this.kube.core.createNamespace({ body: { metadata: { name: ns } } }).catch(() => undefined);
    await this.kube.custom.createNamespacedCustomObject({
      group: LONGHORN.group, version: LONGHORN.version, plural: LONGHORN.volumes, namespace: ns,
      body: { apiVersion: `${LONGHORN.group}/${LONGHORN.version}`, kind: 'Volume', metadata: { name }, spec: { numberOfReplicas: 3, size: '1073741824' } },
    });
    await this.kube.custom.patchNamespacedCustomObjectStatus({ group: LONGHORN.group, version: LONGHORN.version, plural: LONGHORN.volumes, namespace: ns, name, body: { status } }, MERGE);
  }

  async secret(namespace: string, name: string, stringData: Record<string, string>): Promise<void> {
    await createSecret(this.kube, namespace, name, stringData);
  }

  async deployment(namespace: string, name: string, o: { replicas?: number; strategy?: string; claim?: string }): Promise<void> {
    await this.kube.apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name, labels: { app: name } },
        spec: {
          replicas: o.replicas ?? 1,
          strategy: o.strategy === 'Recreate' ? { type: 'Recreate' } : { type: 'RollingUpdate' },
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: {
              containers: [{ name, image: 'garethgeorge/backrest:v1.12.0', ...(o.claim ? { volumeMounts: [{ name: 'data', mountPath: '/data' }] } : {}) }],
              ...(o.claim ? { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: o.claim } }] } : {}),
            },
          },
        },
      },
    });
  }

  async perconaBackup(namespace: string, name: string, cluster: string, status: Record<string, unknown>): Promise<void> {
    await this.kube.custom.createNamespacedCustomObject({
      group: PERCONA.group, version: PERCONA.version, plural: PERCONA.backups, namespace,
      body: { apiVersion: `${PERCONA.group}/${PERCONA.version}`, kind: 'PerconaServerMySQLBackup', metadata: { name }, spec: { clusterName: cluster, storageName: 's3' } },
    });
    await this.kube.custom.patchNamespacedCustomObjectStatus({ group: PERCONA.group, version: PERCONA.version, plural: PERCONA.backups, namespace, name, body: { status } }, MERGE);
  }

  async perconaRestore(namespace: string, name: string, cluster: string, status: Record<string, unknown>): Promise<void> {
    await this.kube.custom.createNamespacedCustomObject({
      group: PERCONA.group, version: PERCONA.version, plural: PERCONA.restores, namespace,
      body: { apiVersion: `${PERCONA.group}/${PERCONA.version}`, kind: 'PerconaServerMySQLRestore', metadata: { name }, spec: { clusterName: cluster, backupName: 'b' } },
    });
    await this.kube.custom.patchNamespacedCustomObjectStatus({ group: PERCONA.group, version: PERCONA.version, plural: PERCONA.restores, namespace, name, body: { status } }, MERGE);
  }

  async lease(namespace: string, name: string, holder: string, renewedAt: number, durationSeconds: number): Promise<void> {
    await this.kube.coordination.createNamespacedLease({
      namespace,
      body: { metadata: { name }, spec: { holderIdentity: holder, leaseDurationSeconds: durationSeconds, acquireTime: micro(renewedAt) as never, renewTime: micro(renewedAt) as never } },
    });
  }
}

export const LOCK_LOG = [
  'using parent snapshot 4f1c2d9a',
  'repo already locked, waiting up to 0s for the lock',
  'unable to create lock in backend: repository is already locked by PID 32 on volsync-src-plex-nzlv6 by root (UID 0, GID 0)',
  'the `unlock` command can be used to remove stale locks',
  'ERROR: failed to run backup',
].join('\n');
