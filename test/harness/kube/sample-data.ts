// Realistic sample cluster state drawn from the runbooks in /work/shared/seeds: healthy, overdue,
// failed (stale restic lock) and paused ReplicationSources, a mover pod stuck in ContainerCreating
// behind a faulted Longhorn volume, a labelled PVC in a namespace the backup policy ignores, and
// the Backrest Deployment that crash-loops on its oplog lock. No kubelet or controllers run, so
// every status is written through the status subresource. Safe to run repeatedly: objects are
// server-side applied and statuses merge-patched (timestamps move with "now").
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { listLocks, type ResticTarget } from '../../../src/restic/index.ts';
import { holdLock, initWithSnapshot, resticBinary } from '../restic.ts';

/** Any manifest: KubernetesObject only types the header fields. */
type Manifest = KubernetesObject & Record<string, unknown>;

const FIELD_MANAGER = 'backup-bot-sample-data';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The mover image VolSync runs. */
const VOLSYNC_IMAGE = 'quay.io/backube/volsync:0.13.0';

export interface SampleDataSummary {
  namespaces: string[];
  replicationSources: string[];
  pods: string[];
}

interface SourceSpec {
  namespace: string;
  pvc: string;
  size: string;
  /** Longhorn volume / PV name behind the PVC. */
  volume: string;
  state: 'healthy' | 'overdue' | 'failed' | 'paused';
}

const LABELLED_NAMESPACES = ['home-assistant', 'karakeep', 'paperless-ngx', 'media'];

const SOURCES: SourceSpec[] = [
  { namespace: 'home-assistant', pvc: 'config', size: '5Gi', volume: 'pvc-3f6c2a8e-0b7d-4a51-9c3e-5d2f8a1b7c40', state: 'healthy' },
  { namespace: 'karakeep', pvc: 'data-pvc', size: '10Gi', volume: 'pvc-8a1d4c2b-6e3f-4b7a-a5d9-0c8e7f6b5a31', state: 'healthy' },
  { namespace: 'karakeep', pvc: 'meilisearch-pvc', size: '5Gi', volume: 'pvc-c47e9b13-2d5a-4f8c-b6e1-7a3d9c0f2e58', state: 'overdue' },
  { namespace: 'paperless-ngx', pvc: 'data', size: '10Gi', volume: 'pvc-1b9e7d3c-4a6f-4c28-8e5b-2f0a9d7c6b14', state: 'healthy' },
  { namespace: 'paperless-ngx', pvc: 'media', size: '50Gi', volume: 'pvc-5e2a8c7d-9b1f-4e36-a0c4-8d6b3f2e1a97', state: 'paused' },
  { namespace: 'media', pvc: 'plex', size: '20Gi', volume: 'pvc-9d4f1e6a-7c3b-4a85-b2e9-6f0d8c5a3b72', state: 'failed' },
];

/** The PVC labelled for backup in a namespace without volsync.backube/privileged-movers=true. */
const UNPROTECTED = { namespace: 'open-webui', pvc: 'storage', volume: 'pvc-e8b3c5a1-0f2d-4d79-9a6e-3c1b7e4d8f25' };

/** restic's output for a repository locked by a mover pod that died 189h ago (seeds/restic-stale-lock-runbook.md). */
function lockLog(now: number): string {
  const age = 189 * HOUR + 37 * MINUTE + 14_500;
  const created = new Date(now - age).toISOString().replace('T', ' ').slice(0, 19);
  return [
    'using parent snapshot 4f1c2d9a',
    'repo already locked, waiting up to 0s for the lock',
    'unable to create lock in backend: repository is already locked by PID 32 on volsync-src-plex-nzlv6 by root (UID 0, GID 0)',
    `lock was created at ${created} (189h37m14.500688624s ago)`,
    'storage ID 7b2e91c4',
    'the `unlock` command can be used to remove stale locks',
    'ERROR: failed to run backup',
  ].join('\n');
}

const SUCCESS_LOG = (files: number, added: string): string =>
  [
    'using parent snapshot 2a7e4c1b',
    `Files:           3 new,    12 changed, ${files} unmodified`,
    'Dirs:            0 new,     4 changed,   118 unmodified',
    `Added to the repository: ${added} (${added} stored)`,
    `processed ${files + 15} files, 1.204 GiB in 0:41`,
    'snapshot 9c3f0e27 saved',
    'Restic completed in 47s',
    '=== Done ===',
  ].join('\n');

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const nextHour = (now: number): number => Math.ceil((now + 1) / HOUR) * HOUR;
const repoUrl = (ns: string, pvc: string): string => `s3:http://rustfs.storage.svc.cluster.local:9000/volsync-backup/${ns}/${pvc}`;

function sampleSecretData(ns: string, pvc: string): Record<string, string> {
  // Obviously fake, sample-only credentials.
  return {
    RESTIC_REPOSITORY: repoUrl(ns, pvc),
    RESTIC_PASSWORD: `sample-only-restic-password-${ns}-${pvc}`,
    AWS_ACCESS_KEY_ID: 'SAMPLEACCESSKEY0001',
    AWS_SECRET_ACCESS_KEY: 'sample-only-secret-access-key',
  };
}

function objects(now: number, secretOverrides: Record<string, Record<string, string>> = {}): Manifest[] {
  const objs: Manifest[] = [];
  const ns = (name: string, labels: Record<string, string> = {}): void => {
    objs.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } });
  };
  for (const name of LABELLED_NAMESPACES) ns(name, { 'volsync.backube/privileged-movers': 'true' });
  ns(UNPROTECTED.namespace);
  ns('backrest');
  ns('longhorn-system');
  ns('volsync-system');
  ns('mysql');

  const pvAndPvc = (namespace: string, pvc: string, volume: string, size: string, labels: Record<string, string>): void => {
    objs.push({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: volume, annotations: { 'pv.kubernetes.io/provisioned-by': 'driver.longhorn.io' } },
      spec: {
        capacity: { storage: size },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Delete',
        storageClassName: 'longhorn',
        volumeMode: 'Filesystem',
        claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace, name: pvc },
        csi: { driver: 'driver.longhorn.io', volumeHandle: volume, fsType: 'ext4' },
      },
    });
    objs.push({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: pvc, namespace, labels },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'longhorn',
        volumeName: volume,
        resources: { requests: { storage: size } },
      },
    });
  };

  for (const s of SOURCES) {
    pvAndPvc(s.namespace, s.pvc, s.volume, s.size, { backup: 'hourly', 'app.kubernetes.io/name': s.namespace });
    objs.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `${s.pvc}-volsync-secret`, namespace: s.namespace, labels: { 'app.kubernetes.io/managed-by': 'kyverno' } },
      type: 'Opaque',
      stringData: secretOverrides[`${s.namespace}/${s.pvc}`] ?? sampleSecretData(s.namespace, s.pvc),
    });
    objs.push({
      apiVersion: 'volsync.backube/v1alpha1',
      kind: 'ReplicationSource',
      metadata: {
        name: s.pvc,
        namespace: s.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'kyverno', 'app.kubernetes.io/name': s.namespace },
      },
      spec: {
        sourcePVC: s.pvc,
        ...(s.state === 'paused' ? { paused: true } : {}),
        trigger: { schedule: '0 * * * *' },
        restic: {
          repository: `${s.pvc}-volsync-secret`,
          copyMethod: 'Clone',
          pruneIntervalDays: 7,
          cacheCapacity: '2Gi',
          storageClassName: 'longhorn',
          retain: { hourly: 24, daily: 7, weekly: 4, monthly: 3 },
          moverSecurityContext: { runAsUser: 0, runAsGroup: 0, fsGroup: 0 },
        },
      },
    });
    objs.push({
      apiVersion: 'volsync.backube/v1alpha1',
      kind: 'ReplicationDestination',
      metadata: { name: `${s.pvc}-restore`, namespace: s.namespace, labels: { 'app.kubernetes.io/managed-by': 'kyverno' } },
      spec: {
        trigger: { manual: 'restore-once' },
        restic: {
          repository: `${s.pvc}-volsync-secret`,
          destinationPVC: s.pvc,
          copyMethod: 'Direct',
          cacheCapacity: '2Gi',
          storageClassName: 'longhorn',
        },
      },
    });
  }
  objs.push({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'volsync-rustfs-base', namespace: 'home-assistant' },
    type: 'Opaque',
    stringData: {
      RESTIC_REPOSITORY_BASE: 's3:http://rustfs.storage.svc.cluster.local:9000/volsync-backup/',
      AWS_ACCESS_KEY_ID: 'SAMPLEACCESSKEY0001',
      AWS_SECRET_ACCESS_KEY: 'sample-only-secret-access-key',
    },
  });
  pvAndPvc(UNPROTECTED.namespace, UNPROTECTED.pvc, UNPROTECTED.volume, '10Gi', { backup: 'hourly' });

  // Backrest: one replica, a ReadWriteOnce volume and RollingUpdate: the oplog-lock crash loop.
  pvAndPvc('backrest', 'backrest-data', 'pvc-2c8f6a4e-1d3b-4e97-8b5a-0e9c7d2f4a16', '1Gi', {});
  objs.push({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'backrest', namespace: 'backrest', labels: { app: 'backrest' } },
    spec: {
      replicas: 1,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      selector: { matchLabels: { app: 'backrest' } },
      template: {
        metadata: { labels: { app: 'backrest' } },
        spec: {
          containers: [
            {
              name: 'backrest',
              image: 'garethgeorge/backrest:v1.12.0',
              ports: [{ containerPort: 9898, name: 'http' }],
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            },
          ],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'backrest-data' } }],
        },
      },
    },
  });

  const pod = (namespace: string, name: string, labels: Record<string, string>, image: string, claim?: string): void => {
    objs.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels },
      spec: {
        restartPolicy: labels['app'] === 'backrest' ? 'Always' : 'OnFailure',
        containers: [
          {
            name: labels['app'] === 'backrest' ? 'backrest' : 'restic',
            image,
            ...(claim ? { volumeMounts: [{ name: 'data', mountPath: '/data' }] } : {}),
          },
        ],
        ...(claim ? { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }] } : {}),
      },
    });
  };
  const moverLabels = (rs: string): Record<string, string> => ({
    'app.kubernetes.io/created-by': 'volsync',
    'app.kubernetes.io/part-of': 'volsync',
    'job-name': `volsync-src-${rs}`,
  });
  pod('karakeep', 'volsync-src-meilisearch-pvc-w8k4d', moverLabels('meilisearch-pvc'), VOLSYNC_IMAGE, 'volsync-meilisearch-pvc-src');
  pod('media', 'volsync-src-plex-r7t2x', moverLabels('plex'), VOLSYNC_IMAGE, 'volsync-plex-src');
  pod('paperless-ngx', 'volsync-dst-media-restore-q5m9z', {
    'app.kubernetes.io/created-by': 'volsync',
    'job-name': 'volsync-dst-media-restore',
  }, VOLSYNC_IMAGE, 'media');
  pod('backrest', 'backrest-6d5f8b7c9-hx2lp', { app: 'backrest', 'pod-template-hash': '6d5f8b7c9' }, 'garethgeorge/backrest:v1.12.0', 'backrest-data');

  objs.push({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'volsync-src-meilisearch-pvc-w8k4d.attach', namespace: 'karakeep' },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: 'karakeep', name: 'volsync-src-meilisearch-pvc-w8k4d' },
    reason: 'FailedAttachVolume',
    message: `AttachVolume.Attach failed for volume "${SOURCES[2]?.volume}" : rpc error: code = Aborted desc = volume ${SOURCES[2]?.volume} is not ready for workloads`,
    type: 'Warning',
    count: 47,
    firstTimestamp: iso(now - 4 * HOUR),
    lastTimestamp: iso(now - 2 * MINUTE),
    source: { component: 'attachdetach-controller' },
  });

  for (const s of [...SOURCES, { ...UNPROTECTED, size: '10Gi' }]) {
    objs.push({
      apiVersion: 'longhorn.io/v1beta2',
      kind: 'Volume',
      metadata: { name: s.volume, namespace: 'longhorn-system' },
      spec: { size: String(parseInt(s.size, 10) * 1024 ** 3), numberOfReplicas: 3, frontend: 'blockdev', dataEngine: 'v1', accessMode: 'rwo' },
    });
  }

  objs.push({
    apiVersion: 'ps.percona.com/v1alpha1',
    kind: 'PerconaServerMySQLBackup',
    metadata: { name: 'cluster1-nightly', namespace: 'mysql' },
    spec: { clusterName: 'cluster1', storageName: 's3-rustfs' },
  });
  objs.push({
    apiVersion: 'ps.percona.com/v1alpha1',
    kind: 'PerconaServerMySQLRestore',
    metadata: { name: 'cluster1-restore', namespace: 'mysql' },
    spec: { clusterName: 'cluster1', backupName: 'cluster1-nightly' },
  });
  return objs;
}

interface StatusPatch {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  status: Record<string, unknown>;
}

function condition(type: string, status: 'True' | 'False', reason: string, message: string, at: number): Record<string, string> {
  return { type, status, reason, message, lastTransitionTime: iso(at) };
}

/** A Pod's status, written as the kubelet would. */
function podStatus(namespace: string, name: string, status: Record<string, unknown>): StatusPatch {
  return { apiVersion: 'v1', kind: 'Pod', namespace, name, status };
}

/** The `restic` container of a VolSync mover pod that is not running (yet, or any more), in `state`. */
function moverContainer(state: Record<string, unknown>, imageID = ''): Record<string, unknown> {
  return { name: 'restic', image: VOLSYNC_IMAGE, imageID, ready: false, restartCount: 0, started: false, state, lastState: {} };
}

function statuses(now: number): StatusPatch[] {
  const out: StatusPatch[] = [];
  const last = Math.floor(now / HOUR) * HOUR;
  for (const s of SOURCES) {
    const rs = { apiVersion: 'volsync.backube/v1alpha1', kind: 'ReplicationSource', namespace: s.namespace, name: s.pvc };
    if (s.state === 'healthy') {
      out.push({
        ...rs,
        status: {
          lastSyncStartTime: iso(last + 1000),
          lastSyncTime: iso(last + 48_000),
          lastSyncDuration: '47.218s',
          nextSyncTime: iso(nextHour(now)),
          latestMoverStatus: { result: 'Successful', logs: SUCCESS_LOG(1834, '12.4 MiB') },
          restic: { lastPruned: iso(now - 3 * 24 * HOUR) },
          conditions: [condition('Synchronizing', 'False', 'WaitingForSchedule', 'Waiting for next scheduled synchronization', last + 48_000)],
        },
      });
    } else if (s.state === 'overdue') {
      out.push({
        ...rs,
        status: {
          lastSyncStartTime: iso(last - 5 * HOUR + 1000),
          lastSyncTime: iso(last - 5 * HOUR + 52_000),
          lastSyncDuration: '51.604s',
          // The sync due hours ago never finished: its mover is stuck in ContainerCreating.
          nextSyncTime: iso(last - 4 * HOUR),
          latestMoverStatus: { result: 'Successful', logs: SUCCESS_LOG(922, '3.1 MiB') },
          conditions: [condition('Synchronizing', 'True', 'SyncInProgress', 'Synchronization in-progress', last - 4 * HOUR)],
        },
      });
    } else if (s.state === 'failed') {
      out.push({
        ...rs,
        status: {
          lastSyncStartTime: iso(last + 2000),
          lastSyncTime: iso(now - 8 * 24 * HOUR),
          lastSyncDuration: '2m13.551s',
          nextSyncTime: iso(nextHour(now)),
          latestMoverStatus: { result: 'Failed', logs: lockLog(now) },
          restic: { lastPruned: iso(now - 10 * 24 * HOUR) },
          conditions: [condition('Synchronizing', 'True', 'SyncInProgress', 'Synchronization in-progress', last + 2000)],
        },
      });
    } else {
      out.push({
        ...rs,
        status: {
          lastSyncTime: iso(now - 2 * 24 * HOUR),
          lastSyncDuration: '3m2.004s',
          latestMoverStatus: { result: 'Successful', logs: SUCCESS_LOG(40211, '1.9 GiB') },
          conditions: [condition('Synchronizing', 'False', 'WaitingForManual', 'Synchronization paused', now - 2 * 24 * HOUR)],
        },
      });
    }
    out.push({
      apiVersion: 'volsync.backube/v1alpha1',
      kind: 'ReplicationDestination',
      namespace: s.namespace,
      name: `${s.pvc}-restore`,
      status: s.pvc === 'media'
        ? { conditions: [condition('Synchronizing', 'True', 'SyncInProgress', 'Synchronization in-progress', now - 26 * HOUR)] }
        : {
            lastManualSync: 'restore-once',
            lastSyncTime: iso(now - 30 * 24 * HOUR),
            lastSyncDuration: '1m4.12s',
            latestMoverStatus: { result: 'Successful', logs: 'restoring snapshot 1e2d3c4b\n=== Done ===' },
            conditions: [condition('Synchronizing', 'False', 'WaitingForManual', 'Waiting for manual trigger', now - 30 * 24 * HOUR)],
          },
    });
    out.push({
      apiVersion: 'longhorn.io/v1beta2',
      kind: 'Volume',
      namespace: 'longhorn-system',
      name: s.volume,
      status: s.state === 'overdue'
        ? {
            state: 'detached',
            robustness: 'faulted',
            currentNodeID: '',
            kubernetesStatus: { namespace: s.namespace, pvcName: s.pvc, pvName: s.volume, pvStatus: 'Bound', lastPodRefAt: iso(now - 4 * HOUR) },
            conditions: [{ type: 'Scheduled', status: 'False', reason: 'ReplicaSchedulingFailure', message: 'engine dead unexpectedly' }],
          }
        : {
            state: 'attached',
            robustness: 'healthy',
            currentNodeID: 'k8s-worker-2',
            kubernetesStatus: {
              namespace: s.namespace,
              pvcName: s.pvc,
              pvName: s.volume,
              pvStatus: 'Bound',
              workloadsStatus: [{ podName: `${s.namespace}-0`, podStatus: 'Running', workloadName: s.namespace, workloadType: 'StatefulSet' }],
            },
            conditions: [{ type: 'Scheduled', status: 'True', reason: '', message: '' }],
          },
    });
  }
  out.push({
    apiVersion: 'longhorn.io/v1beta2',
    kind: 'Volume',
    namespace: 'longhorn-system',
    name: UNPROTECTED.volume,
    status: {
      state: 'attached',
      robustness: 'healthy',
      currentNodeID: 'k8s-worker-1',
      kubernetesStatus: { namespace: UNPROTECTED.namespace, pvcName: UNPROTECTED.pvc, pvName: UNPROTECTED.volume, pvStatus: 'Bound' },
    },
  });
  for (const [namespace, name, volume, size] of [
    ...SOURCES.map((s) => [s.namespace, s.pvc, s.volume, s.size] as const),
    [UNPROTECTED.namespace, UNPROTECTED.pvc, UNPROTECTED.volume, '10Gi'] as const,
    ['backrest', 'backrest-data', 'pvc-2c8f6a4e-1d3b-4e97-8b5a-0e9c7d2f4a16', '1Gi'] as const,
  ]) {
    out.push({ apiVersion: 'v1', kind: 'PersistentVolume', name: volume, status: { phase: 'Bound' } });
    out.push({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      namespace,
      name,
      status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: size } },
    });
  }

  out.push(podStatus('karakeep', 'volsync-src-meilisearch-pvc-w8k4d', {
    phase: 'Pending',
    conditions: [
      { type: 'PodScheduled', status: 'True', lastTransitionTime: iso(last - 4 * HOUR) },
      { type: 'Initialized', status: 'True', lastTransitionTime: iso(last - 4 * HOUR) },
      { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [restic]', lastTransitionTime: iso(last - 4 * HOUR) },
    ],
    hostIP: '10.0.20.12',
    startTime: iso(last - 4 * HOUR),
    containerStatuses: [moverContainer({ waiting: { reason: 'ContainerCreating' } })],
  }));
  out.push(podStatus('media', 'volsync-src-plex-r7t2x', {
    phase: 'Failed',
    hostIP: '10.0.20.11',
    podIP: '10.244.1.87',
    startTime: iso(last + 2000),
    containerStatuses: [
      moverContainer(
        { terminated: { exitCode: 1, reason: 'Error', startedAt: iso(last + 3000), finishedAt: iso(last + 135_000) } },
        'quay.io/backube/volsync@sha256:0d7c1c0a9e3e5b6f4a2d8c7b1e9f0a3d5c6b7e8f9a0b1c2d3e4f5a6b7c8d9e0f',
      ),
    ],
  }));
  out.push(podStatus('paperless-ngx', 'volsync-dst-media-restore-q5m9z', { phase: 'Pending', startTime: iso(now - 26 * HOUR), containerStatuses: [moverContainer({ waiting: { reason: 'ContainerCreating' } })] }));
  out.push(podStatus('backrest', 'backrest-6d5f8b7c9-hx2lp', {
    phase: 'Running',
    hostIP: '10.0.20.13',
    podIP: '10.244.2.41',
    startTime: iso(now - 3 * HOUR),
    containerStatuses: [
      {
        name: 'backrest',
        image: 'garethgeorge/backrest:v1.12.0',
        imageID: 'docker.io/garethgeorge/backrest@sha256:5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b',
        ready: false,
        restartCount: 14,
        started: false,
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container=backrest pod=backrest-6d5f8b7c9-hx2lp' } },
        lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: iso(now - 6 * MINUTE), finishedAt: iso(now - 6 * MINUTE + 800) } },
      },
    ],
  }));
  out.push({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    namespace: 'backrest',
    name: 'backrest',
    status: {
      observedGeneration: 1,
      replicas: 1,
      updatedReplicas: 1,
      unavailableReplicas: 1,
      conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }],
    },
  });
  out.push({
    apiVersion: 'ps.percona.com/v1alpha1',
    kind: 'PerconaServerMySQLBackup',
    namespace: 'mysql',
    name: 'cluster1-nightly',
    status: { state: 'Succeeded', completed: iso(now - 20 * HOUR), destination: 's3://mysql-backups/cluster1-2026-01-18-02:00:00-full' },
  });
  out.push({
    apiVersion: 'ps.percona.com/v1alpha1',
    kind: 'PerconaServerMySQLRestore',
    namespace: 'mysql',
    name: 'cluster1-restore',
    status: { state: 'Running' },
  });
  return out;
}

const CRD_PLURALS: Record<string, string> = {
  ReplicationSource: 'replicationsources',
  ReplicationDestination: 'replicationdestinations',
  Volume: 'volumes',
  PerconaServerMySQLBackup: 'perconaservermysqlbackups',
  PerconaServerMySQLRestore: 'perconaservermysqlrestores',
};

async function patchStatus(kc: KubeConfig, p: StatusPatch): Promise<void> {
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const body = { status: p.status };
  const namespace = p.namespace ?? '';
  if (p.apiVersion === 'v1') {
    const core = kc.makeApiClient(CoreV1Api);
    if (p.kind === 'Pod') await core.patchNamespacedPodStatus({ name: p.name, namespace, body }, merge);
    else if (p.kind === 'PersistentVolumeClaim') await core.patchNamespacedPersistentVolumeClaimStatus({ name: p.name, namespace, body }, merge);
    else if (p.kind === 'PersistentVolume') await core.patchPersistentVolumeStatus({ name: p.name, body }, merge);
    else throw new Error(`no status patch for ${p.kind}`);
    return;
  }
  if (p.kind === 'Deployment') {
    await kc.makeApiClient(AppsV1Api).patchNamespacedDeploymentStatus({ name: p.name, namespace, body }, merge);
    return;
  }
  const [group = '', version = ''] = p.apiVersion.split('/');
  const plural = CRD_PLURALS[p.kind];
  if (!plural) throw new Error(`no plural known for ${p.kind}`);
  await kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObjectStatus({ group, version, namespace, plural, name: p.name, body }, merge);
}

function describe(err: unknown, what: string): Error {
  const e = err as { code?: number; body?: unknown; message?: string };
  const body = typeof e.body === 'string' ? e.body : JSON.stringify(e.body ?? '');
  return new Error(`sample data: ${what} failed: ${e.code ? `HTTP ${e.code} ` : ''}${body || e.message || String(err)}`);
}

export interface SampleDataOptions {
  /** Also make media/plex's repository a real local restic repository with three kinds of lock. */
  restic?: SampleResticOptions;
}

/** Creates or refreshes the sample data; returns what it wrote. */
export async function seedSampleData(kubeconfigPath: string, now: Date = new Date(), opts: SampleDataOptions = {}): Promise<SampleDataSummary> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const api = KubernetesObjectApi.makeApiClient(kc);
  const t = now.getTime();
  const restic = opts.restic ? await prepareSampleRepository(opts.restic) : undefined;
  const objs = restic
    ? [...objects(t, { [`${PLEX_REPOSITORY.namespace}/${PLEX_REPOSITORY.pvc}`]: { RESTIC_REPOSITORY: restic.repository, RESTIC_PASSWORD: restic.env['RESTIC_PASSWORD']! } }), ...resticObjects()]
    : objects(t);
  for (const obj of objs) {
    const what = `apply ${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name}`;
    try {
      await api.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    } catch (err) {
      throw describe(err, what);
    }
  }
  for (const p of [...statuses(t), ...(restic ? resticStatuses(t) : [])]) {
    try {
      await patchStatus(kc, p);
    } catch (err) {
      throw describe(err, `status of ${p.kind} ${p.namespace ? `${p.namespace}/` : ''}${p.name}`);
    }
  }
  if (restic && opts.restic) await seedSampleLocks(restic, opts.restic);
  const names = (kind: string): string[] =>
    objs.filter((o) => o.kind === kind).map((o) => (o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : String(o.metadata?.name)));
  return { namespaces: names('Namespace'), replicationSources: names('ReplicationSource'), pods: names('Pod') };
}

// ---------------------------------------------------------------------------------------------
// The sample restic repository behind media/plex: a real local repository (under the cluster's
// state directory) that /restic locks and /restic unlock work on, with one lock of each kind:
//   stale     made on this host by a restic that was kill -9'd (restic's own rule: dead PID here),
//   orphaned  made as host volsync-src-plex-nzlv6, the mover pod from the runbook, which has
//             finished (Failed) — so the lock is provably dead, not merely of an absent pod,
//   live      held by a restic that keeps running as host restic-shell, a Running pod in media
//             (the runbook's "restic shell"); the cluster supervisor keeps that restic alive.
// The orphaned lock turns stale by restic's age rule 30 minutes after seeding; seed again to reset.

export interface SampleResticOptions {
  /** Where the repository and its password file live (created on first use). */
  dir: string;
  /**
   * Keeps a restic running as `hostname` against the repository, holding a lock, for as long as the
   * cluster runs; resolves once its lock is in the repository.
   */
  keepLiveLock(target: ResticTarget, hostname: string): Promise<void>;
}

export const PLEX_REPOSITORY = { namespace: 'media', pvc: 'plex', orphanedHost: 'volsync-src-plex-nzlv6', liveHost: 'restic-shell' } as const;

/** The repository's target: created with one snapshot on first use, the same one afterwards. */
async function prepareSampleRepository(opts: SampleResticOptions): Promise<ResticTarget> {
  await mkdir(opts.dir, { recursive: true, mode: 0o700 });
  const passwordFile = join(opts.dir, 'media-plex.password');
  let password: string;
  try {
    password = (await readFile(passwordFile, 'utf8')).trim();
  } catch {
    password = `sample-only-${randomBytes(12).toString('hex')}`;
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  }
  const target: ResticTarget = { repository: join(opts.dir, 'media-plex'), env: { RESTIC_PASSWORD: password }, credentialsFrom: 'Secret media/plex-volsync-secret' };
  if (!existsSync(join(target.repository, 'config'))) {
    await rm(target.repository, { recursive: true, force: true });
    await initWithSnapshot(target, join(opts.dir, 'media-plex-work'));
  }
  return target;
}

function resticObjects(): Manifest[] {
  return [{
    // The runbook's mover, finished: its lock is orphaned by proof (the pod ended), not by absence.
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: PLEX_REPOSITORY.orphanedHost,
      namespace: PLEX_REPOSITORY.namespace,
      labels: { 'app.kubernetes.io/created-by': 'volsync', 'batch.kubernetes.io/job-name': 'volsync-src-plex', 'job-name': 'volsync-src-plex' },
    },
    spec: { restartPolicy: 'Never', containers: [{ name: 'restic', image: VOLSYNC_IMAGE }] },
  }, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: PLEX_REPOSITORY.liveHost, namespace: PLEX_REPOSITORY.namespace, labels: { app: 'restic-shell' } },
    spec: {
      restartPolicy: 'Never',
      containers: [{ name: 'restic', image: 'restic/restic:0.18.1', command: ['sleep', 'infinity'], envFrom: [{ secretRef: { name: 'plex-volsync-secret' } }] }],
    },
  }];
}

function resticStatuses(now: number): StatusPatch[] {
  return [
    podStatus(PLEX_REPOSITORY.namespace, PLEX_REPOSITORY.orphanedHost, {
      phase: 'Failed',
      startTime: iso(now - 3 * 60 * MINUTE),
      containerStatuses: [moverContainer({ terminated: { exitCode: 1, reason: 'Error', finishedAt: iso(now - 3 * 60 * MINUTE + 47_000) } })],
    }),
    podStatus(PLEX_REPOSITORY.namespace, PLEX_REPOSITORY.liveHost, {
      phase: 'Running',
      hostIP: '10.0.20.12',
      podIP: '10.244.1.93',
      startTime: iso(now - 20 * MINUTE),
      containerStatuses: [{ name: 'restic', image: 'restic/restic:0.18.1', imageID: '', ready: true, restartCount: 0, started: true, state: { running: { startedAt: iso(now - 20 * MINUTE) } }, lastState: {} }],
    }),
  ];
}

/** Replaces every lock but the live one with a fresh stale and orphaned lock, and makes sure the live one is held. */
async function seedSampleLocks(target: ResticTarget, opts: SampleResticOptions): Promise<void> {
  const bin = resticBinary();
  if (!bin) throw new Error('restic is not built: run `bash test/harness/setup/restic.sh`');
  for (const lock of await listLocks(target, { bin })) {
    // Our own local sample repository: earlier seeds' dead locks are simply deleted.
    if (lock.hostname !== PLEX_REPOSITORY.liveHost) await rm(join(target.repository, 'locks', lock.id), { force: true });
  }
  const stale = await holdLock(target);
  await stale.kill9();
  const orphaned = await holdLock(target, { hostname: PLEX_REPOSITORY.orphanedHost });
  await orphaned.kill9();
  await opts.keepLiveLock(target, PLEX_REPOSITORY.liveHost);
}
