/**
 * Why a pod is stuck Pending: the pod itself rarely says ("ContainerCreating"); its latest Warning
 * event does ("AttachVolume.Attach failed … volume is not ready for workloads"). One events list
 * per stuck pod, in parallel, capped: the cost follows the number of stuck pods, never the number
 * of namespaces, and a mass outage still answers quickly.
 */
import type { Kube } from '../kube/client.ts';
import { withTimeout } from './inventory.ts';
import type { Event, Pod } from './objects.ts';
import { key, ms, nameOf, namespaceOf } from './objects.ts';
import { podWaitReason } from './source-health.ts';

export const STUCK_EVENT_LOOKUPS = 10;

function eventTime(e: Event): number {
  return ms(e.series?.lastObservedTime) ?? ms(e.lastTimestamp) ?? ms(e.eventTime) ?? ms(e.metadata?.creationTimestamp) ?? 0;
}

/** The most telling event line for a pod: latest Warning, else latest event. */
export function latestWarning(events: Event[]): string | undefined {
  const sorted = [...events].sort((a, b) => eventTime(b) - eventTime(a));
  const e = sorted.find((x) => x.type === 'Warning') ?? sorted[0];
  if (!e?.message) return undefined;
  return `${e.reason ? `${e.reason}: ` : ''}${e.message}${e.count && e.count > 1 ? ` (×${e.count})` : ''}`;
}

/** ns/name → reason, for up to `cap` pods; pods without a readable event fall back to their own status. */
export async function stuckReasons(kube: Kube | undefined, pods: Pod[], cap = STUCK_EVENT_LOOKUPS): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await Promise.all(pods.slice(0, cap).map(async (p) => {
    let reason: string | undefined;
    if (kube) {
      try {
        const res = await withTimeout(kube.core.listNamespacedEvent({
          namespace: namespaceOf(p),
          fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${nameOf(p)}`,
        }), 10_000, 'list events');
        reason = latestWarning((res.items ?? []) as unknown as Event[]);
      } catch {
        // Events are a nicety: without them the pod's own status still says something.
      }
    }
    reason ??= podWaitReason(p);
    if (reason) out.set(key(p), reason);
  }));
  for (const p of pods.slice(cap)) {
    const r = podWaitReason(p);
    if (r) out.set(key(p), r);
  }
  return out;
}
