// The facts `verdictFor` needs, from this process and from the pods the bot can see.
import { hostname } from 'node:os';
import { isMoverHostname, type HostFacts, type PodPhase } from './verdict.ts';

/**
 * Whether a process exists, the way restic decides it: any failure to signal it counts as gone
 * (restic sends SIGHUP and treats every error — also EPERM — as "not running"). Signal 0 asks the
 * same question without disturbing the process.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const KUBE_PHASES: ReadonlySet<string> = new Set(['Running', 'Pending', 'Succeeded', 'Failed', 'Unknown']);
const HOSTNAME_MAX = 63;

/** The hostname a pod's processes see: its name, cut to 63 characters without a trailing '-' or '.'. */
export function podHostname(pod: { name: string; hostname?: string | undefined }): string {
  if (pod.hostname) return pod.hostname;
  return pod.name.length <= HOSTNAME_MAX ? pod.name : pod.name.slice(0, HOSTNAME_MAX).replace(/[-.]+$/, '');
}

/** When several pods share a hostname (one per namespace), the one still going decides. */
const LIVELINESS: Record<PodPhase, number> = { Running: 5, Pending: 4, Unknown: 3, Failed: 2, Succeeded: 1, absent: 0, 'not-a-pod': 0 };

/**
 * A podPhase lookup over the pods the bot can see (the repository's namespace, and mover pods
 * cluster-wide). A hostname with no pod is 'absent' if it looks like a VolSync mover and
 * 'not-a-pod' otherwise (it may be a laptop or another cluster). 'absent' is not proof of death:
 * the verdict decides that with the lock's age.
 */
export function podPhaseLookup(
  pods: ReadonlyArray<{ name: string; hostname?: string | undefined; phase?: string | undefined }>,
): (hostname: string) => PodPhase {
  const phases = new Map<string, PodPhase>();
  for (const pod of pods) {
    const phase = pod.phase !== undefined && KUBE_PHASES.has(pod.phase) ? (pod.phase as PodPhase) : 'Unknown';
    const host = podHostname(pod);
    const seen = phases.get(host);
    if (seen === undefined || LIVELINESS[phase] > LIVELINESS[seen]) phases.set(host, phase);
  }
  return (host) => phases.get(host) ?? (isMoverHostname(host) ? 'absent' : 'not-a-pod');
}

/** Facts about the machine the bot (and the restic it starts) runs on. */
export function localHostFacts(podPhase: (hostname: string) => PodPhase): HostFacts {
  return { thisHost: hostname(), isProcessAlive, podPhase };
}
