/**
 * What the cluster knows about a crash-looping pod: its container's restarts and last
 * termination, its recent events, its owner (ReplicaSet → Deployment, StatefulSet, DaemonSet,
 * Job) with the owner's strategy and the container's resources, and the previous container's log.
 * Failures of one part become a line in the result; the rest is still collected.
 */
import type { CoreV1Event, V1Container, V1ContainerStatus, V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.ts';
import { kubeErrorLine, statusCode } from '../kube/client.ts';
import type { CrashEvidence } from './classify.ts';
import type { LogReader, PreviousLog } from './pod-log.ts';

export const EVENTS_SHOWN = 5;

export interface PodTarget {
  namespace: string;
  pod: string;
  container?: string;
}

export interface EventLine {
  type: string;
  reason: string;
  message: string;
  count: number;
  at?: Date;
}

export interface OwnerFacts {
  kind: string;
  name: string;
  strategy?: string;
  replicas?: number;
  /** Why the owner could not be read completely. */
  error?: string;
}

export interface PodFacts {
  /** false when the pod no longer exists (or could not be read: see error). */
  found: boolean;
  error?: string;
  evidence: CrashEvidence;
  phase?: string;
  events: EventLine[];
  eventsError?: string;
  owner?: OwnerFacts;
  /** "requests cpu 100m, memory 128Mi · limits memory 256Mi". */
  resources?: string;
  log: PreviousLog;
}

function pickStatus(pod: V1Pod, container?: string): V1ContainerStatus | undefined {
  const all = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  if (container) {
    const named = all.find((c) => c.name === container);
    if (named) return named;
  }
  // The one that restarts most is the one the alert is about.
  return [...all].sort((a, b) => (b.restartCount ?? 0) - (a.restartCount ?? 0))[0];
}

function specContainer(containers: readonly V1Container[] | undefined, name: string | undefined): V1Container | undefined {
  return containers?.find((c) => c.name === name) ?? (containers?.length === 1 ? containers[0] : undefined);
}

export function describeResources(c: V1Container | undefined): string | undefined {
  if (!c?.resources) return undefined;
  const part = (label: string, r: Record<string, string> | undefined) => {
    const entries = Object.entries(r ?? {}).filter(([k]) => k === 'cpu' || k === 'memory');
    return entries.length ? `${label} ${entries.map(([k, v]) => `${k} ${v}`).join(', ')}` : undefined;
  };
  const parts = [part('requests', c.resources.requests as Record<string, string> | undefined), part('limits', c.resources.limits as Record<string, string> | undefined)].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'no requests or limits';
}

export function evidenceFrom(pod: V1Pod, target: PodTarget): CrashEvidence {
  const status = pickStatus(pod, target.container);
  const name = status?.name ?? target.container;
  const spec = specContainer([...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])], name);
  const terminated = status?.lastState?.terminated ?? status?.state?.terminated;
  const e: CrashEvidence = { pod: target.pod, namespace: target.namespace };
  if (name) e.container = name;
  if (status?.restartCount !== undefined) e.restartCount = status.restartCount;
  if (status?.state?.waiting?.reason) e.waitingReason = status.state.waiting.reason;
  if (status?.state?.waiting?.message) e.waitingMessage = status.state.waiting.message;
  if (terminated) {
    e.lastTermination = {
      ...(terminated.reason ? { reason: terminated.reason } : {}),
      ...(terminated.exitCode !== undefined ? { exitCode: terminated.exitCode } : {}),
      ...(terminated.message ? { message: terminated.message } : {}),
      ...(terminated.finishedAt ? { finishedAt: new Date(terminated.finishedAt).toISOString() } : {}),
    };
  }
  const image = status?.image ?? spec?.image;
  if (image) e.image = image;
  const memory = (spec?.resources?.limits as Record<string, string> | undefined)?.['memory'];
  if (memory) e.memoryLimit = memory;
  return e;
}

function controllerOf(refs: readonly V1OwnerReference[] | undefined): V1OwnerReference | undefined {
  return refs?.find((r) => r.controller) ?? refs?.[0];
}

async function ownerOf(kube: Kube, pod: V1Pod, namespace: string): Promise<{ owner?: OwnerFacts; template?: readonly V1Container[] }> {
  const ref = controllerOf(pod.metadata?.ownerReferences);
  if (!ref) return {};
  try {
    switch (ref.kind) {
      case 'ReplicaSet': {
        const rs = await kube.apps.readNamespacedReplicaSet({ name: ref.name, namespace });
        const dep = controllerOf(rs.metadata?.ownerReferences);
        if (dep?.kind !== 'Deployment') {
          return { owner: { kind: 'ReplicaSet', name: ref.name, ...(rs.spec?.replicas !== undefined ? { replicas: rs.spec.replicas } : {}) }, template: rs.spec?.template?.spec?.containers };
        }
        try {
          const d = await kube.apps.readNamespacedDeployment({ name: dep.name, namespace });
          return {
            owner: { kind: 'Deployment', name: dep.name, strategy: d.spec?.strategy?.type ?? 'RollingUpdate', ...(d.spec?.replicas !== undefined ? { replicas: d.spec.replicas } : {}) },
            template: d.spec?.template?.spec?.containers,
          };
        } catch (err) {
          return { owner: { kind: 'Deployment', name: dep.name, error: kubeErrorLine(err, `read Deployment ${namespace}/${dep.name}`, kube) }, template: rs.spec?.template?.spec?.containers };
        }
      }
      case 'StatefulSet': {
        const s = await kube.apps.readNamespacedStatefulSet({ name: ref.name, namespace });
        return { owner: { kind: 'StatefulSet', name: ref.name, strategy: s.spec?.updateStrategy?.type ?? 'RollingUpdate', ...(s.spec?.replicas !== undefined ? { replicas: s.spec.replicas } : {}) }, template: s.spec?.template?.spec?.containers };
      }
      case 'DaemonSet': {
        const d = await kube.apps.readNamespacedDaemonSet({ name: ref.name, namespace });
        return { owner: { kind: 'DaemonSet', name: ref.name, strategy: d.spec?.updateStrategy?.type ?? 'RollingUpdate' }, template: d.spec?.template?.spec?.containers };
      }
      default:
        return { owner: { kind: ref.kind, name: ref.name } };
    }
  } catch (err) {
    return { owner: { kind: ref.kind, name: ref.name, error: kubeErrorLine(err, `read ${ref.kind} ${namespace}/${ref.name}`, kube) } };
  }
}

function eventTime(e: CoreV1Event): Date | undefined {
  const t = e.lastTimestamp ?? e.eventTime ?? e.series?.lastObservedTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return t ? new Date(t) : undefined;
}

async function eventsOf(kube: Kube, target: PodTarget): Promise<{ events: EventLine[]; error?: string }> {
  try {
    const list = await kube.core.listNamespacedEvent({
      namespace: target.namespace,
      fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${target.pod}`,
      limit: 200,
    });
    const events = list.items
      .map((e): EventLine => {
        const at = eventTime(e);
        return { type: e.type ?? 'Normal', reason: e.reason ?? '', message: (e.message ?? '').trim(), count: e.count ?? e.series?.count ?? 1, ...(at ? { at } : {}) };
      })
      .sort((a, b) => (b.at?.getTime() ?? 0) - (a.at?.getTime() ?? 0))
      .slice(0, EVENTS_SHOWN);
    return { events };
  } catch (err) {
    return { events: [], error: kubeErrorLine(err, `list events of ${target.namespace}/${target.pod}`, kube) };
  }
}

export async function collectPodFacts(kube: Kube, target: PodTarget, readLog: LogReader): Promise<PodFacts> {
  let pod: V1Pod;
  try {
    pod = await kube.core.readNamespacedPod({ name: target.pod, namespace: target.namespace });
  } catch (err) {
    const evidence: CrashEvidence = { pod: target.pod, namespace: target.namespace, ...(target.container ? { container: target.container } : {}) };
    const gone = statusCode(err) === 404;
    // A deleted pod's events outlive it for an hour: still worth showing.
    const ev = gone ? await eventsOf(kube, target) : { events: [] };
    return {
      found: false,
      error: gone ? `pod ${target.namespace}/${target.pod} no longer exists (replaced or deleted)` : kubeErrorLine(err, `read pod ${target.namespace}/${target.pod}`, kube),
      evidence,
      events: ev.events,
      log: { unavailable: gone ? 'the pod no longer exists' : 'the pod could not be read' },
    };
  }
  const evidence = evidenceFrom(pod, target);
  const [owned, ev, log] = await Promise.all([
    ownerOf(kube, pod, target.namespace),
    eventsOf(kube, target),
    readLog({ namespace: target.namespace, pod: target.pod, ...(evidence.container ? { container: evidence.container } : {}) }),
  ]);
  if (owned.owner) {
    evidence.ownerKind = owned.owner.kind;
    evidence.ownerName = owned.owner.name;
    if (owned.owner.strategy) evidence.strategy = owned.owner.strategy;
    if (owned.owner.replicas !== undefined) evidence.replicas = owned.owner.replicas;
  }
  if ('lines' in log) evidence.previousLog = log.lines;
  // The owner's template is what the next pod gets; the pod's own spec is the fallback.
  const container = specContainer(owned.template, evidence.container) ?? specContainer([...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])], evidence.container);
  const resources = describeResources(container);
  const templateMemory = (container?.resources?.limits as Record<string, string> | undefined)?.['memory'];
  if (templateMemory && !evidence.memoryLimit) evidence.memoryLimit = templateMemory;
  return {
    found: true,
    evidence,
    ...(pod.status?.phase ? { phase: pod.status.phase } : {}),
    events: ev.events,
    ...(ev.error ? { eventsError: ev.error } : {}),
    ...(owned.owner ? { owner: owned.owner } : {}),
    ...(resources ? { resources } : {}),
    log,
  };
}
