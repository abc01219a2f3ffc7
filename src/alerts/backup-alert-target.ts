/**
 * Which VolSync object an alert is about, from its labels alone (pure, and cheap to load: the
 * alert pipeline asks it of every alert at start, the backup diagnosis in backup-alert.ts is
 * loaded with the diagnoser on the first alert that needs one).
 */
import { isDnsLabel, isDnsSubdomain } from '../command/names.ts';
import type { MoverKind } from '../volsync/mover-pods.ts';
import { parseMoverJob, parseMoverPodName } from '../volsync/mover-pods.ts';

/** The VolSync object an alert is about. */
export interface BackupAlertTarget {
  namespace: string;
  kind: MoverKind;
  /** The ReplicationSource (kind source) or ReplicationDestination (kind destination). */
  name: string;
}

/**
 * Whether the alert is about a backup, and which: VolSync's metrics label the object
 * `obj_namespace`/`obj_name` (with `role` destination for a restore); kube-state-metrics' Job
 * alerts carry `job_name`; a crash loop names the mover pod. Names are validated here: labels are
 * outside text and these reach API calls.
 */
export function backupAlertTarget(labels: Record<string, string>, crashLoop: boolean): BackupAlertTarget | undefined {
  const valid = (t: BackupAlertTarget | undefined) => (t && isDnsLabel(t.namespace) && isDnsSubdomain(t.name) ? t : undefined);
  const objNs = labels['obj_namespace'];
  const objName = labels['obj_name'];
  if (objNs && objName) return valid({ namespace: objNs, name: objName, kind: labels['role'] === 'destination' ? 'destination' : 'source' });
  const ns = labels['namespace'];
  if (!ns) return undefined;
  const job = labels['job_name'] ? parseMoverJob(labels['job_name']) : undefined;
  if (job && /^KubeJob/.test(labels['alertname'] ?? '')) return valid({ namespace: ns, name: job.owner, kind: job.kind });
  const pod = crashLoop && labels['pod'] ? parseMoverPodName(labels['pod'], 'required') : undefined;
  if (pod) return valid({ namespace: ns, name: pod.owner, kind: pod.kind });
  return undefined;
}
