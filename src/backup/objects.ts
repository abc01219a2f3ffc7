/**
 * The few fields backup-bot reads from VolSync, core, Longhorn and Percona objects, typed loosely:
 * objects arrive either from a typed list (client-node turns timestamps into Date) or from a watch
 * event (raw JSON, timestamps are strings), so every time goes through `ms()`.
 */

export type Time = string | Date | undefined | null;

/** Milliseconds since the epoch, or undefined when absent or unparsable. */
export function ms(t: Time): number | undefined {
  if (t === undefined || t === null || t === '') return undefined;
  const v = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isNaN(v) ? undefined : v;
}

/** RFC 3339 without fractions, as kubectl prints date-time columns. */
export function rfc3339(t: number): string {
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface Meta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: Time;
  deletionTimestamp?: Time;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ kind?: string; name?: string }>;
}

export interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: Time;
}

/** One ReplicationSource type for the whole bot: it lives with the rest of VolSync. */
export type { ReplicationSource } from '../volsync/source.ts';

export interface ReplicationDestination {
  metadata?: Meta;
  spec?: { restic?: { repository?: string; destinationPVC?: string } };
  status?: { conditions?: Condition[] };
}

export interface ContainerStatus {
  name?: string;
  restartCount?: number;
  state?: {
    waiting?: { reason?: string; message?: string };
    running?: { startedAt?: Time };
    terminated?: { exitCode?: number; reason?: string; message?: string; finishedAt?: Time };
  };
}

export interface Pod {
  metadata?: Meta;
  spec?: { nodeName?: string; volumes?: Array<{ persistentVolumeClaim?: { claimName?: string } }> };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    startTime?: Time;
    conditions?: Condition[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

export interface Job {
  metadata?: Meta;
  spec?: { backoffLimit?: number; parallelism?: number };
  status?: { active?: number; failed?: number; succeeded?: number; startTime?: Time; conditions?: Condition[] };
}

export interface Pvc {
  metadata?: Meta;
  spec?: { volumeName?: string; accessModes?: string[]; storageClassName?: string };
  status?: { phase?: string };
}

export interface LonghornVolume {
  metadata?: Meta;
  status?: {
    state?: string;
    robustness?: string;
    kubernetesStatus?: { namespace?: string; pvcName?: string };
    conditions?: Condition[];
  };
}

export interface PerconaBackup {
  metadata?: Meta;
  spec?: { clusterName?: string; storageName?: string };
  status?: { state?: string; stateDescription?: string; completed?: Time; destination?: string };
}

export interface PerconaRestore {
  metadata?: Meta;
  spec?: { clusterName?: string; backupName?: string };
  status?: { state?: string; stateDescription?: string; completed?: Time };
}

export interface Lease {
  metadata?: Meta;
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: Time; renewTime?: Time };
}

export interface Event {
  metadata?: Meta;
  involvedObject?: { kind?: string; name?: string; namespace?: string };
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  lastTimestamp?: Time;
  eventTime?: Time;
  series?: { lastObservedTime?: Time };
}

export const key = (o: { metadata?: Meta }): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
export const nameOf = (o: { metadata?: Meta }): string => o.metadata?.name ?? '';
export const namespaceOf = (o: { metadata?: Meta }): string => o.metadata?.namespace ?? '';

export function condition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** VolSync's mover naming lives in one place. */
export { jobNameOf, sourceJobName } from '../volsync/mover-pods.ts';
