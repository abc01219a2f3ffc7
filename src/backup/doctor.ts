/**
 * /backup doctor [namespace]: every check from the VolSync troubleshooting and Backrest oplog-lock
 * runbooks that the API can answer, each finding with the command that fixes it. A fixed number
 * of lists (namespaces, PVCs, sources, job pods, Longhorn volumes, Deployments), then only the
 * Secrets those name, read by name: the bot never lists Secrets (deploy/rbac.yaml grants `get`).
 * Secret values are read only to test that a key is present and non-empty, never shown or logged.
 */
import type { Kube } from '../kube/client.ts';
import { LONGHORN, kubeErrorLine, statusCode } from '../kube/client.ts';
import type { Reply } from '../reply.ts';
import { errorReply, inlineCode, untrustedLine } from '../reply.ts';
import { isDnsLabel, isDnsSubdomain } from '../command/names.ts';
import { UserError } from '../errors.ts';
import { JOB_POD_SELECTOR, listSources, withTimeout } from './inventory.ts';
import type { LonghornVolume, Meta, Pod, Pvc, ReplicationSource } from './objects.ts';
import { key, nameOf, namespaceOf } from './objects.ts';
import { jobNameOf, parseMoverJob } from '../volsync/mover-pods.ts';
import { REQUIRED_SECRET_KEYS } from '../restic/environment.ts';
import { NO_CLUSTER } from '../errors.ts';
import { isStuck, podPhase, podSince } from './source-health.ts';
import { stuckReasons } from './stuck-reasons.ts';
import { duration as humanDuration } from '../text.ts';
import { mapLimit } from '../restic/map-limit.ts';
import { renderDoctor } from './doctor-reply.ts';

export const PRIVILEGED_MOVERS_LABEL = 'volsync.backube/privileged-movers';
export const BASE_SECRET = 'volsync-rustfs-base';

export type CheckId = 'unprotected-pvc' | 'repository-secret' | 'restore-stuck' | 'longhorn-faulted' | 'rolling-rwo';

export interface Finding {
  check: CheckId;
  namespace: string;
  /** The object the finding is about: PVC, source, pod, volume or Deployment name. */
  subject: string;
  /** Why, in a sentence (mrkdwn, already escaped: spec and status strings are outside text). */
  why: string;
  /** The commands that fix it, in order. */
  fix: string[];
}

export interface DoctorResult {
  namespace?: string;
  findings: Finding[];
  /** Checks that could not run, and why (one line each). */
  skipped: string[];
  /** How many objects each check looked at, for the "nothing found" line. */
  looked: Record<CheckId, number>;
}

interface DeploymentLike {
  metadata?: Meta;
  spec?: {
    replicas?: number;
    strategy?: { type?: string };
    template?: { spec?: { volumes?: Array<{ name?: string; persistentVolumeClaim?: { claimName?: string } }> } };
  };
}

interface SecretLike {
  metadata?: Meta;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

interface NamespaceLike {
  metadata?: Meta;
}

export interface DoctorInput {
  namespaces?: NamespaceLike[];
  pvcs?: Pvc[];
  sources: ReplicationSource[];
  /** The Secrets the checks name (repository and base secrets) that exist; those absent do not exist. */
  secrets?: SecretLike[];
  /** Named Secrets that could not be read, by `namespace/name`: whether RBAC forbade it, and why. */
  unreadable?: Record<string, { forbidden: boolean; line: string }>;
  pods?: Pod[];
  volumes?: LonghornVolume[];
  deployments?: DeploymentLike[];
  /** Why a list above is missing, by name. */
  failures: Record<string, string>;
}

export function parseLabel(selector: string): { key: string; value: string } {
  const i = selector.indexOf('=');
  return { key: selector.slice(0, i), value: selector.slice(i + 1) };
}

const annotateCmd = (ns: string, pvc: string) => `kubectl annotate pvc ${pvc} -n ${ns} kyverno.io/trigger="$(date +%s)" --overwrite`;

/**
 * Only names Kubernetes would accept go into a suggested command: a spec string (sourcePVC, a
 * Secret name) is outside text, and a command an admin pastes must not carry anything else.
 */
const commandSafe = (ns: string, name: string | undefined): name is string => isDnsLabel(ns) && name !== undefined && isDnsSubdomain(name);

/** The deployed service account (deploy/rbac.yaml); an admin checks the bot's access to one Secret with this. */
const botCanGet = (ns: string, secret: string) => `kubectl auth can-i get secret/${secret} -n ${ns} --as=system:serviceaccount:backup-bot:backup-bot`;

function hasKey(secret: SecretLike, k: string): boolean {
  const v = secret.data?.[k] ?? secret.stringData?.[k];
  return typeof v === 'string' && v.length > 0;
}

/** The checks themselves: pure, so they are tested without a cluster. */
export function diagnose(input: DoctorInput, opts: { pvcLabel: string; namespace?: string; now: number; stuck?: Map<string, string> }): DoctorResult {
  const { now } = opts;
  const findings: Finding[] = [];
  const skipped: string[] = Object.values(input.failures);
  const looked: Record<CheckId, number> = { 'unprotected-pvc': 0, 'repository-secret': 0, 'restore-stuck': 0, 'longhorn-faulted': 0, 'rolling-rwo': 0 };
  const label = parseLabel(opts.pvcLabel);
  const nsLabels = new Map((input.namespaces ?? []).map((n) => [nameOf(n), n.metadata?.labels ?? {}]));
  const secrets = new Map((input.secrets ?? []).map((s) => [key(s), s]));
  const protectedPvcs = new Set(input.sources.map((s) => `${namespaceOf(s)}/${s.spec?.sourcePVC ?? ''}`));
  const pvcs = new Map((input.pvcs ?? []).map((p) => [key(p), p]));

  // 1. PVCs labelled for backup with no ReplicationSource: why the policy did not generate one.
  if (input.pvcs) {
    for (const pvc of input.pvcs) {
      if (pvc.metadata?.labels?.[label.key] !== label.value) continue;
      looked['unprotected-pvc']++;
      const ns = namespaceOf(pvc);
      const name = nameOf(pvc);
      if (protectedPvcs.has(`${ns}/${name}`)) continue;
      const labels = nsLabels.get(ns);
      const privileged = labels?.[PRIVILEGED_MOVERS_LABEL] === 'true';
      const baseUnreadable = input.unreadable?.[`${ns}/${BASE_SECRET}`];
      const base = input.secrets && !baseUnreadable ? secrets.has(`${ns}/${BASE_SECRET}`) : undefined;
      const reasons: string[] = [];
      const fix: string[] = [];
      if (baseUnreadable?.forbidden) {
        reasons.push(`the bot may not read the base secret \`${BASE_SECRET}\` in \`${ns}\` (403), so it was not checked`);
        fix.push(botCanGet(ns, BASE_SECRET));
      }
      if (labels && !privileged) {
        reasons.push(`namespace \`${ns}\` lacks the label \`${PRIVILEGED_MOVERS_LABEL}=true\``);
        fix.push(`kubectl label namespace ${ns} ${PRIVILEGED_MOVERS_LABEL}=true`);
      }
      if (base === false) {
        reasons.push(`the base secret \`${BASE_SECRET}\` is missing in \`${ns}\`${privileged ? ' although the namespace is labelled (check the ClusterExternalSecret)' : ''}`);
        fix.push(`kubectl get secret ${BASE_SECRET} -n ${ns}`);
      }
      if (!reasons.length && base !== undefined) {
        reasons.push('the namespace label and base secret are in place, so the Kyverno policy did not act on it');
        fix.push('kubectl get clusterpolicy volsync-smart-protection');
      }
      fix.push(annotateCmd(ns, name));
      findings.push({ check: 'unprotected-pvc', namespace: ns, subject: name, why: `PVC \`${ns}/${name}\` is labelled \`${opts.pvcLabel}\` but has no ReplicationSource: ${reasons.join('; ')}.`, fix });
    }
  }

  // 2. Repository Secrets named by spec.restic.repository: missing, or without the restic keys.
  if (input.secrets) {
    for (const rs of input.sources) {
      const repo = rs.spec?.restic?.repository;
      if (!repo) continue;
      looked['repository-secret']++;
      const ns = namespaceOf(rs);
      const secret = secrets.get(`${ns}/${repo}`);
      const pvc = rs.spec?.sourcePVC;
      const regenerate = commandSafe(ns, pvc) ? [annotateCmd(ns, pvc)] : [];
      const repoName = inlineCode(repo, 120);
      const repoRef = inlineCode(`${ns}/${repo}`, 120);
      const unreadable = input.unreadable?.[`${ns}/${repo}`];
      if (unreadable?.forbidden) {
        findings.push({
          check: 'repository-secret', namespace: ns, subject: nameOf(rs),
          why: `Source \`${ns}/${nameOf(rs)}\` uses repository Secret ${repoName}, which the bot may not read (403), so its keys were not checked. Grant the bot \`get\` on that Secret (deploy/rbac.yaml: \`get\` on Secrets, never \`list\`).`,
          fix: commandSafe(ns, repo) ? [botCanGet(ns, repo)] : [],
        });
        continue;
      }
      if (unreadable) {
        skipped.push(unreadable.line);
        continue;
      }
      if (!secret) {
        findings.push({
          check: 'repository-secret', namespace: ns, subject: nameOf(rs),
          why: `Source \`${ns}/${nameOf(rs)}\` uses repository Secret ${repoName}, which does not exist: its mover cannot start.`,
          fix: [`kubectl get secret -n ${ns} | grep volsync-secret`, ...regenerate],
        });
        continue;
      }
      const missing = REQUIRED_SECRET_KEYS.filter((k) => !hasKey(secret, k));
      if (missing.length) {
        findings.push({
          check: 'repository-secret', namespace: ns, subject: nameOf(rs),
          why: `Repository Secret ${repoRef} of source \`${nameOf(rs)}\` has no ${missing.map((k) => `\`${k}\``).join(' and ')} (empty or missing).`,
          fix: ['kubectl get clusterpolicy volsync-smart-protection', ...regenerate],
        });
      }
    }
  }

  // 3. Restore (ReplicationDestination) mover pods stuck in Pending / ContainerCreating.
  for (const p of input.pods ?? []) {
    const mover = parseMoverJob(jobNameOf(p) ?? '');
    if (mover?.kind !== 'destination') continue;
    looked['restore-stuck']++;
    if (!isStuck(p, now)) continue;
    const ns = namespaceOf(p);
    const rd = mover.owner;
    const since = podSince(p);
    const why = opts.stuck?.get(key(p));
    findings.push({
      check: 'restore-stuck', namespace: ns, subject: nameOf(p),
      why: `Restore pod \`${ns}/${nameOf(p)}\` (ReplicationDestination \`${rd}\`) stuck in ${untrustedLine(podPhase(p), 80)} for ${since ? humanDuration(now - since) : 'a while'}${why ? `: ${untrustedLine(why, 400)}` : ''}. Restores only matter for disaster recovery; backups keep working.`,
      fix: [`kubectl delete replicationdestination ${rd} -n ${ns}`, `kubectl delete pvc -n ${ns} -l volsync.backube/replicationdestination`],
    });
  }

  // 4. Longhorn volumes faulted or unknown, and the PVC behind each.
  const pvcByVolume = new Map((input.pvcs ?? []).filter((p) => p.spec?.volumeName).map((p) => [p.spec!.volumeName!, p]));
  for (const v of input.volumes ?? []) {
    const pvc = pvcByVolume.get(nameOf(v));
    // Without the PVC, its name and namespace come from the volume's status: outside text.
    const ns = pvc ? namespaceOf(pvc) : v.status?.kubernetesStatus?.namespace ?? '';
    const pvcName = pvc ? nameOf(pvc) : v.status?.kubernetesStatus?.pvcName ?? '';
    if (opts.namespace && ns !== opts.namespace) continue;
    looked['longhorn-faulted']++;
    const robustness = v.status?.robustness;
    const state = v.status?.state;
    if (robustness !== 'faulted' && robustness !== 'unknown' && state !== 'unknown') continue;
    const vol = nameOf(v);
    const volsyncOwned = /^volsync-/.test(pvcName) || pvc?.metadata?.labels?.['volsync.backube/replicationdestination'] !== undefined;
    const fix = [`kubectl get volumes.longhorn.io -n ${LONGHORN.namespace} ${vol} -o custom-columns=NAME:.metadata.name,STATE:.status.state,ROBUSTNESS:.status.robustness -w`];
    if (volsyncOwned) fix.push(`kubectl delete volume.longhorn.io ${vol} -n ${LONGHORN.namespace}`);
    else if (commandSafe(ns, pvcName)) fix.push(annotateCmd(ns, pvcName));
    findings.push({
      check: 'longhorn-faulted', namespace: ns, subject: vol,
      why: `Longhorn volume \`${vol}\`${pvcName ? ` (PVC ${inlineCode(`${ns}/${pvcName}`, 120)})` : ''} is *${untrustedLine(robustness ?? state ?? 'unknown', 40)}* (state ${untrustedLine(state ?? 'unknown', 40)}): pods using it stay in ContainerCreating ("volume is not ready for workloads"). Auto-salvage usually recovers it; ${volsyncOwned ? 'it is a VolSync cache/restore volume, so deleting it is safe' : 'it holds application data: do not delete it'}.`,
      fix,
    });
  }

  // 5. One replica + a ReadWriteOnce volume + RollingUpdate: the new pod starts while the old one
  // still holds the volume or its lock (the Backrest oplog crash loop).
  for (const d of input.deployments ?? []) {
    const ns = namespaceOf(d);
    const replicas = d.spec?.replicas ?? 1;
    const strategy = d.spec?.strategy?.type ?? 'RollingUpdate';
    const claims = (d.spec?.template?.spec?.volumes ?? []).map((v) => v.persistentVolumeClaim?.claimName).filter((c): c is string => Boolean(c));
    if (!claims.length) continue;
    looked['rolling-rwo']++;
    if (replicas !== 1 || strategy !== 'RollingUpdate') continue;
    const rwo = claims.filter((c) => (pvcs.get(`${ns}/${c}`)?.spec?.accessModes ?? []).some((m) => m === 'ReadWriteOnce' || m === 'ReadWriteOncePod'));
    if (!rwo.length) continue;
    findings.push({
      check: 'rolling-rwo', namespace: ns, subject: nameOf(d),
      why: `Deployment \`${ns}/${nameOf(d)}\` has one replica, a ReadWriteOnce volume (${rwo.map((c) => inlineCode(c, 120)).join(', ')}) and the \`RollingUpdate\` strategy: on every rollout the new pod starts while the old one still holds the volume and its locks (Backrest: "oplog is locked by another instance"). Use \`Recreate\`.`,
      fix: [`kubectl patch deployment ${nameOf(d)} -n ${ns} --type merge -p '{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}'`],
    });
  }
  return { namespace: opts.namespace, findings, skipped, looked };
}

/** The Secrets the checks read: each source's repository Secret, and the base secret of each namespace with an unprotected labelled PVC. */
function namedSecrets(sources: readonly ReplicationSource[], pvcs: readonly Pvc[] | undefined, pvcLabel: string): Array<{ namespace: string; name: string }> {
  const wanted = new Map<string, { namespace: string; name: string }>();
  const add = (namespace: string, name: string) => wanted.set(`${namespace}/${name}`, { namespace, name });
  for (const rs of sources) {
    const repo = rs.spec?.restic?.repository;
    if (repo) add(namespaceOf(rs), repo);
  }
  const label = parseLabel(pvcLabel);
  const protectedPvcs = new Set(sources.map((s) => `${namespaceOf(s)}/${s.spec?.sourcePVC ?? ''}`));
  for (const pvc of pvcs ?? []) {
    if (pvc.metadata?.labels?.[label.key] === label.value && !protectedPvcs.has(key(pvc))) add(namespaceOf(pvc), BASE_SECRET);
  }
  return [...wanted.values()];
}

const SECRET_READS_IN_FLIGHT = 8;

/**
 * What doctor needs: a fixed number of lists whatever the number of namespaces, then the Secrets
 * they name, one `get` each (a few in flight).
 */
export async function readDoctorInput(kube: Kube, namespace?: string, pvcLabel = 'backup=hourly'): Promise<DoctorInput> {
  const failures: Record<string, string> = {};
  const ns = namespace;
  const optional = async <T>(what: string, fn: () => Promise<unknown>, quietOn404 = false): Promise<T[] | undefined> => {
    try {
      return (((await withTimeout(fn(), 30_000, what)) as { items?: T[] }).items ?? []);
    } catch (err) {
      if (!(quietOn404 && statusCode(err) === 404)) failures[what] = kubeErrorLine(err, what, kube);
      return undefined;
    }
  };
  const [sources, namespaces, pvcs, pods, volumes, deployments] = await Promise.all([
    listSources(kube, ns),
    ns
      ? withTimeout(kube.core.readNamespace({ name: ns }), 30_000, 'read namespace').then((n) => [n as NamespaceLike]).catch((err: unknown) => {
        if (statusCode(err) === 404) throw new UserError(`There is no namespace \`${ns}\`.`);
        failures['read namespace'] = kubeErrorLine(err, `read namespace ${ns}`, kube);
        return undefined;
      })
      : optional<NamespaceLike>('list namespaces', () => kube.core.listNamespace()),
    optional<Pvc>('list PersistentVolumeClaims', () => (ns ? kube.core.listNamespacedPersistentVolumeClaim({ namespace: ns }) : kube.core.listPersistentVolumeClaimForAllNamespaces())),
    optional<Pod>('list restore pods', () => (ns ? kube.core.listNamespacedPod({ namespace: ns, labelSelector: JOB_POD_SELECTOR }) : kube.core.listPodForAllNamespaces({ labelSelector: JOB_POD_SELECTOR }))),
    optional<LonghornVolume>('list Longhorn volumes', () => kube.custom.listNamespacedCustomObject({ group: LONGHORN.group, version: LONGHORN.version, plural: LONGHORN.volumes, namespace: LONGHORN.namespace }), true),
    optional<DeploymentLike>('list Deployments', () => (ns ? kube.apps.listNamespacedDeployment({ namespace: ns }) : kube.apps.listDeploymentForAllNamespaces())),
  ]);
  const secrets: SecretLike[] = [];
  const unreadable: Record<string, { forbidden: boolean; line: string }> = {};
  await mapLimit(namedSecrets(sources, pvcs, pvcLabel), SECRET_READS_IN_FLIGHT, async (s) => {
    const what = `read Secret ${s.namespace}/${s.name}`;
    if (!isDnsSubdomain(s.name)) {
      unreadable[`${s.namespace}/${s.name}`] = { forbidden: false, line: `Cannot ${what}: that is not a valid Secret name (spec.restic.repository of a ReplicationSource in ${s.namespace})` };
      return;
    }
    try {
      const secret = (await withTimeout(kube.core.readNamespacedSecret(s), 30_000, what)) as SecretLike;
      // Only keep what the checks read: the name and which keys are non-empty.
      secrets.push({
        metadata: { name: s.name, namespace: s.namespace },
        data: Object.fromEntries(REQUIRED_SECRET_KEYS.map((k) => [k, hasKey(secret, k) ? 'set' : ''])),
      });
    } catch (err) {
      const code = statusCode(err);
      if (code === 404) return;
      unreadable[`${s.namespace}/${s.name}`] = { forbidden: code === 403, line: kubeErrorLine(err, what, kube) };
    }
  });
  return { namespaces, pvcs, sources, secrets, unreadable, pods, volumes, deployments, failures };
}

export interface DoctorDeps {
  kube?: Kube;
  pvcLabel: string;
  now: () => Date;
}

export async function backupDoctor(deps: DoctorDeps, namespace?: string): Promise<Reply> {
  const kube = deps.kube;
  if (!kube) return errorReply(NO_CLUSTER);
  let input: DoctorInput;
  try {
    input = await readDoctorInput(kube, namespace, deps.pvcLabel);
  } catch (err) {
    if (err instanceof UserError) return errorReply(err.message);
    return errorReply(kubeErrorLine(err, 'run the doctor checks', kube));
  }
  const now = deps.now().getTime();
  const restorePods = (input.pods ?? []).filter((p) => parseMoverJob(jobNameOf(p) ?? '')?.kind === 'destination' && isStuck(p, now));
  const stuck = await stuckReasons(kube, restorePods);
  const result = diagnose(input, { pvcLabel: deps.pvcLabel, namespace, now, stuck });
  return renderDoctor(result, { now, server: kube.server });
}
