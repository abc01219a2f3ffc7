/**
 * The tests' one vocabulary for Kubernetes objects on a real API server: namespaces, Secrets,
 * PVCs, ReplicationSources, pods, and their statuses. No kubelet or controllers run, so every
 * status is written through the status subresource, the way VolSync and the kubelet would write
 * it. Names are unique per test file (uniq), because test files share one server.
 */
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import type { Kube } from '../../src/kube/client.ts';
import { kubeFromConfig, MERGE_PATCH, VOLSYNC } from '../../src/kube/client.ts';
import { kubeForTests } from './kube/kube-for-tests.ts';
import type { KubeHarness } from './kube/start-kube.ts';

/** Options for a merge patch (status subresources take one): the bot's own. */
export const MERGE = MERGE_PATCH;
export const HOUR = 3_600_000;
export const MINUTE = 60_000;
/** RFC 3339 without milliseconds, as VolSync writes times. */
export const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** RFC 3339 with microseconds, as a Lease's times are written. */
export const micro = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
export const uniq = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function kubeFor(kubeconfigPath: string): Kube {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kubeFromConfig(kc);
}

/**
 * A new ServiceAccount `name` in `namespace` (made by the admin of kubeconfigPath), and a Kube on
 * the same cluster that acts as it, through a real token from the TokenRequest API. What it may
 * do is what the test then binds to it: nothing at first.
 */
export async function serviceAccountKube(kubeconfigPath: string, namespace: string, name: string): Promise<Kube> {
  const admin = kubeFor(kubeconfigPath);
  await admin.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  const tr = await admin.core.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences: [], expirationSeconds: 600 } } });
  const base = new KubeConfig();
  base.loadFromFile(kubeconfigPath);
  const cluster = base.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [cluster], users: [{ name, token: tr.status?.token ?? '' }], contexts: [{ name: 'sa', cluster: cluster.name, user: name }], currentContext: 'sa' });
  return kubeFromConfig(kc);
}

/** A test file's API server (kubeForTests) and an admin Kube on it, with these namespaces created. */
export async function kubeWithNamespaces(...names: string[]): Promise<{ harness: KubeHarness; kube: Kube }> {
  const harness = await kubeForTests();
  const kube = kubeFor(harness.kubeconfigPath);
  for (const name of names) await createNamespace(kube, name);
  return { harness, kube };
}

/** Deletes a namespace at the end of a file, if the file got as far as a Kube (errors ignored). */
export async function deleteNamespace(kube: Kube | undefined, name: string): Promise<void> {
  await kube?.core.deleteNamespace({ name }).catch(() => undefined);
}

export async function createNamespace(kube: Kube, name: string, labels: Record<string, string> = {}): Promise<void> {
  await kube.core.createNamespace({ body: { metadata: { name, labels } } });
}

export async function createSecret(kube: Kube, namespace: string, name: string, stringData: Record<string, string>): Promise<void> {
  await kube.core.createNamespacedSecret({ namespace, body: { metadata: { name }, type: 'Opaque', stringData } });
}

/** A Bound PVC on the longhorn storage class. */
export async function createPvc(kube: Kube, namespace: string, name: string, o: { labels?: Record<string, string>; volumeName?: string; accessModes?: string[] } = {}): Promise<void> {
  await kube.core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name, labels: o.labels },
      spec: { accessModes: o.accessModes ?? ['ReadWriteOnce'], storageClassName: 'longhorn', volumeName: o.volumeName, resources: { requests: { storage: '1Gi' } } },
    },
  });
  await kube.core.patchNamespacedPersistentVolumeClaimStatus({ namespace, name, body: { status: { phase: 'Bound' } } }, MERGE);
}

/** The spec of a restic ReplicationSource: PVC `pvc` (default: the name), Secret `<name>-restic-secret`, hourly. */
export function resticSourceSpec(name: string, o: { pvc?: string; secret?: string; paused?: boolean; schedule?: string; customCA?: Record<string, string> } = {}): Record<string, unknown> {
  return {
    sourcePVC: o.pvc ?? name,
    ...(o.paused !== undefined ? { paused: o.paused } : {}),
    trigger: { schedule: o.schedule ?? '0 * * * *' },
    restic: { repository: o.secret ?? `${name}-restic-secret`, copyMethod: 'Clone', ...(o.customCA ? { customCA: o.customCA } : {}) },
  };
}

/** A ReplicationSource with this spec (and labels), then its status when given. */
export async function createReplicationSource(
  kube: Kube,
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
  o: { labels?: Record<string, string>; status?: Record<string, unknown> } = {},
): Promise<void> {
  await kube.custom.createNamespacedCustomObject({
    group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources, namespace,
    body: { apiVersion: `${VOLSYNC.group}/${VOLSYNC.version}`, kind: 'ReplicationSource', metadata: { name, ...(o.labels ? { labels: o.labels } : {}) }, spec },
  });
  if (o.status) await sourceStatus(kube, namespace, name, o.status);
}

export interface SourceObject {
  metadata: { uid: string; resourceVersion: string; managedFields?: unknown[] };
  spec: Record<string, any>;
  status?: Record<string, any>;
}

export async function getSource(kube: Kube, namespace: string, name: string): Promise<SourceObject> {
  return (await kube.custom.getNamespacedCustomObject({ group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources, namespace, name })) as never;
}

/** Writes a source's status as VolSync would. */
export async function sourceStatus(kube: Kube, namespace: string, name: string, status: Record<string, unknown>): Promise<void> {
  await kube.custom.patchNamespacedCustomObjectStatus({ group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources, namespace, name, body: { status } }, MERGE);
}

/** A pod (a mover, or any Job's) with this status; unscheduled, so deleting it is immediate. */
export async function createPodWithStatus(kube: Kube, namespace: string, name: string, labels: Record<string, string>, status: Record<string, unknown>, claim?: string): Promise<void> {
  await kube.core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, labels },
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'restic', image: 'quay.io/backube/volsync:0.13.0', ...(claim ? { volumeMounts: [{ name: 'data', mountPath: '/data' }] } : {}) }],
        ...(claim ? { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }] } : {}),
      },
    },
  });
  await kube.core.patchNamespacedPodStatus({ namespace, name, body: { status } }, MERGE);
}

/** VolSync's labels on a source's mover pod (the Job controller adds the job-name labels). */
export const moverLabels = (source: string): Record<string, string> => ({
  'app.kubernetes.io/created-by': 'volsync',
  'job-name': `volsync-src-${source}`,
  'batch.kubernetes.io/job-name': `volsync-src-${source}`,
});

export function syncCondition(status: 'True' | 'False', reason: string, message: string, at: number): Record<string, string> {
  return { type: 'Synchronizing', status, reason, message, lastTransitionTime: iso(at) };
}
