/**
 * Pausing a ReplicationSource while its repository's locks are removed, so VolSync starts no mover
 * meanwhile (a paused source's mover Job is stopped too). Resuming must not be forgotten: the
 * caller resumes in `finally`, and a resume that fails is reported with the command that fixes it.
 */
import type { Kube } from '../kube/client.ts';
import { MERGE_PATCH, VOLSYNC, kubeErrorLine } from '../kube/client.ts';

export function pauseCommand(namespace: string, name: string, paused: boolean): string {
  return `kubectl patch replicationsource ${name} -n ${namespace} --type merge -p '{"spec":{"paused":${paused}}}'`;
}

export async function setPaused(kube: Kube, namespace: string, name: string, paused: boolean): Promise<void> {
  await kube.custom.patchNamespacedCustomObject(
    { group: VOLSYNC.group, version: VOLSYNC.version, plural: VOLSYNC.sources, namespace, name, body: { spec: { paused } } },
    MERGE_PATCH,
  );
}

/**
 * Sets spec.paused: false, retrying a few times (the API server may blip). Resolves with undefined
 * on success, else with the one line saying why it failed.
 */
export async function resume(kube: Kube, namespace: string, name: string, opts: { attempts?: number; delayMs?: number } = {}): Promise<string | undefined> {
  const attempts = opts.attempts ?? 4;
  let last = '';
  for (let i = 0; i < attempts; i++) {
    try {
      await setPaused(kube, namespace, name, false);
      return undefined;
    } catch (err) {
      last = kubeErrorLine(err, `resume ReplicationSource ${namespace}/${name}`, kube);
      if (i < attempts - 1) await new Promise((r) => setTimeout(r, (opts.delayMs ?? 500) * (i + 1)));
    }
  }
  return last;
}
