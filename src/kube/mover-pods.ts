/**
 * VolSync mover pods, cluster-wide, with one request by the label VolSync puts on everything it
 * creates. Cached for a few seconds so an alert storm asks once, and given up after a timeout so a
 * slow API server never holds up an alert's thread. A failed look is not cached.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from './client.ts';
import { kubeErrorLine } from './client.ts';

export const VOLSYNC_MOVER_SELECTOR = 'app.kubernetes.io/created-by=volsync';

export interface MoverPodList {
  /** Pods not being deleted. */
  pods: V1Pod[];
  at: Date;
  /** Why the list is unknown (RBAC, unreachable, timeout), as one line. */
  error?: string;
}

export type MoverPodSource = (now: Date) => Promise<MoverPodList>;

export function cachedMoverPods(kube: Kube, opts: { cacheMs?: number; timeoutMs?: number } = {}): MoverPodSource {
  const cacheMs = opts.cacheMs ?? 10_000;
  const timeoutMs = opts.timeoutMs ?? 5_000;
  let cached: { at: number; value: Promise<MoverPodList> } | undefined;
  return (now: Date) => {
    const age = cached ? now.getTime() - cached.at : Infinity;
    if (cached && age >= 0 && age < cacheMs) return cached.value;
    const value = (async (): Promise<MoverPodList> => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const list = await Promise.race([
          kube.core.listPodForAllNamespaces({ labelSelector: VOLSYNC_MOVER_SELECTOR }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { name: 'TimeoutError' })), timeoutMs);
          }),
        ]);
        return { pods: list.items.filter((p) => !p.metadata?.deletionTimestamp), at: now };
      } catch (err) {
        cached = undefined;
        return { pods: [], at: now, error: kubeErrorLine(err, 'list VolSync mover pods', kube) };
      } finally {
        clearTimeout(timer);
      }
    })();
    cached = { at: now.getTime(), value };
    return value;
  };
}
