/**
 * Manual syncs: VolSync syncs when `spec.trigger.manual` differs from `status.lastManualSync`. While
 * a manual value is set it ignores the schedule, so after a successful run on a scheduled source
 * the trigger is removed again (conditional on the resourceVersion, re-read on a 409 conflict).
 */
import { randomBytes } from 'node:crypto';
import type { Kube } from '../kube/client.ts';
import { MERGE_PATCH, VOLSYNC, kubeErrorLine, statusCode } from '../kube/client.ts';
import type { ReplicationSource } from './source.ts';
import { readSource } from './source.ts';

export const mergePatchCmd = (ns: string, name: string, body: string): string => `kubectl patch replicationsource ${name} -n ${ns} --type merge -p '${body}'`;
export const RESUME_SCHEDULE = '{"spec":{"trigger":{"manual":null}}}';

/** A fresh trigger token: `backup-bot-[<kind>-]<UTC instant>-<6 hex>`. */
export function newToken(now: Date, kind?: string): string {
  return `backup-bot-${kind ? `${kind}-` : ''}${now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

/**
 * Sets spec.trigger.manual (plus `spec`, e.g. `{ restic: { unlock } }`), conditional on the
 * resourceVersion just checked: a 409 means the source changed, check again.
 */
export async function triggerManualSync(kube: Kube, rs: ReplicationSource, token: string, spec: Record<string, unknown> = {}): Promise<void> {
  const body = { metadata: { resourceVersion: rs.metadata?.resourceVersion }, spec: { ...spec, trigger: { manual: token } } };
  await kube.custom.patchNamespacedCustomObject({
    group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources,
    namespace: rs.metadata?.namespace ?? '', name: rs.metadata?.name ?? '', body,
  }, MERGE_PATCH);
}

export type ResumeOutcome =
  /** The trigger is gone: the schedule runs again. */
  | { outcome: 'resumed'; schedule: string }
  /** No schedule to go back to, or someone set another trigger meanwhile: left as it is. */
  | { outcome: 'left' }
  | { outcome: 'failed'; why: string };

/** After a successful manual sync, removes the trigger `token` so the schedule resumes; retries on conflict. */
export async function resumeSchedule(kube: Kube, rs: ReplicationSource, token: string, attempts = 4): Promise<ResumeOutcome> {
  const ns = rs.metadata?.namespace ?? '';
  const name = rs.metadata?.name ?? '';
  let current: ReplicationSource | undefined = rs;
  for (let attempt = 0; attempt < attempts && current; attempt++) {
    const schedule = current.spec?.trigger?.schedule;
    if (!schedule || current.spec?.trigger?.manual !== token) return { outcome: 'left' };
    try {
      await kube.custom.patchNamespacedCustomObject({
        group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources, namespace: ns, name,
        body: { metadata: { resourceVersion: current.metadata?.resourceVersion }, spec: { trigger: { manual: null } } },
      }, MERGE_PATCH);
      return { outcome: 'resumed', schedule };
    } catch (err) {
      if (statusCode(err) !== 409) return { outcome: 'failed', why: kubeErrorLine(err, 'patch the source', kube) };
      current = await readSource(kube, ns, name).catch(() => undefined);
    }
  }
  return { outcome: 'failed', why: 'the source kept changing' };
}
