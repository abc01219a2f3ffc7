/**
 * The diagnosis of one source's problem: its cause in a few words (for an incident's parent line)
 * and the evidence and next steps (for its thread). Made of what already exists: the runbook
 * crash patterns (src/alerts/classify.ts) and restic's own error texts (src/restic/errors.ts) for
 * the mover log, and the /backup doctor checks (src/backup/doctor.ts) with their fix commands for
 * stuck movers, faulted volumes, broken repository Secrets and unprotected PVCs. The backup
 * watch uses it; alert threads about VolSync can use it too.
 */
import type { Kube } from '../kube/client.ts';
import { classify } from '../alerts/classify.ts';
import { backendErrorFor, firstMeaningfulLine } from '../restic/errors.ts';
import { isMoverHostname } from '../volsync/mover-pods.ts';
import { untrustedLine, inlineCode } from '../reply.ts';
import type { Block } from '../reply.ts';
import type { Pod } from './objects.ts';
import { key, nameOf } from './objects.ts';
import { diagnose, readDoctorInput } from './doctor.ts';
import type { DoctorInput, Finding } from './doctor.ts';
import type { Problem } from './incidents.ts';
import { stuckReasons } from './stuck-reasons.ts';
import { moverState, moverStateLine } from '../volsync/mover-state.ts';

export interface LogClassification {
  /** A short name of the cause: "repository locked by a mover pod that no longer exists". */
  headline: string;
  /** Why, and what to do next (mrkdwn, escaped). */
  cause?: string;
  nextStep?: string;
  /** The log lines that show it. */
  evidence: string[];
  /** The mover failed on a restic lock. */
  locked?: boolean;
}

const WRONG_PASSWORD = /wrong password or no key found|ciphertext verification failed/i;
const NO_REPOSITORY = /Is there a repository at the following location\?|repository does not exist|unable to open config file|config file does not exist/i;
const NO_CREDENTIALS = /Please specify repository location|Resolving password failed|no password provided|RESTIC_PASSWORD.*(empty|not set|missing)|couldn't find key RESTIC_\w+ in Secret|secret "[^"]+" not found/i;

/**
 * What a mover's log says went wrong, in the runbooks' words. `pods`: the mover pods that exist
 * now, to tell a lock held by a live mover from one left by a mover that is gone.
 */
export function classifyMoverLog(log: string, o: { namespace: string; name: string; pods?: readonly Pod[] }): LogClassification | undefined {
  if (!log.trim()) return undefined;
  const lines = log.split(/\r?\n/);
  const c = classify({ pod: `volsync-src-${o.name}`, namespace: o.namespace, previousLog: lines });
  const evidence = c.evidence.map((e) => untrustedLine(e, 300));
  if (c.id === 'restic-repository-locked') {
    const host = c.details['lockHost'] ?? '';
    const pod = o.pods?.find((p) => nameOf(p) === host);
    const live = pod && (pod.status?.phase === 'Running' || pod.status?.phase === 'Pending');
    const headline = live
      ? `repository locked by the running mover ${untrustedLine(host, 80)}`
      : isMoverHostname(host) ? 'repository locked by a mover pod that no longer exists' : `repository locked by ${untrustedLine(host || 'another process', 80)}`;
    return {
      headline, evidence, locked: true,
      cause: untrustedLine(c.cause, 600),
      nextStep: `\`/restic locks ${o.namespace} ${o.name}\` shows whether the lock is stale; then \`/restic unlock ${o.namespace} ${o.name}\`${live ? '' : ' (or `--remove-all` once no mover runs)'}.`,
    };
  }
  if (c.id === 'longhorn-volume-not-ready') {
    return { headline: 'volume not ready (Longhorn)', evidence, cause: untrustedLine(c.cause, 600), nextStep: untrustedLine(c.nextStep, 600) };
  }
  const matched = (re: RegExp) => lines.filter((l) => re.test(l)).slice(-3).map((l) => untrustedLine(l, 300));
  if (WRONG_PASSWORD.test(log)) {
    return { headline: 'wrong repository password', evidence: matched(WRONG_PASSWORD), nextStep: 'The RESTIC_PASSWORD in the repository Secret does not open this repository: restore the Secret the repository was created with.' };
  }
  if (NO_REPOSITORY.test(log)) {
    return { headline: 'no repository at the configured location', evidence: matched(NO_REPOSITORY), nextStep: 'Check RESTIC_REPOSITORY in the repository Secret (bucket, path, endpoint).' };
  }
  if (NO_CREDENTIALS.test(log)) {
    return { headline: 'repository Secret lacks keys', evidence: matched(NO_CREDENTIALS), nextStep: `\`/backup doctor ${o.namespace}\` checks the repository Secret's keys.` };
  }
  const backend = backendErrorFor(log, { command: 'restic backup' }, { exitCode: null, stderr: log, command: 'restic backup' });
  if (backend) {
    const headline = backend.kind === 'backend-tls' ? 'storage TLS certificate not accepted' : backend.kind === 'backend-auth' ? 'storage credentials rejected' : 'storage endpoint unreachable';
    return { headline, evidence: [], cause: backend.message.replace(/`restic backup` failed: /, '') };
  }
  const line = firstMeaningfulLine(log);
  return line ? { headline: untrustedLine(line, 100), evidence: [untrustedLine(line, 300)] } : undefined;
}

export interface SourceDiagnosis {
  /** The cause in a few words, for the parent line; undefined when nothing better than the problem's own words is known. */
  headline?: string;
  /** The thread's lines (mrkdwn), in order. */
  lines: string[];
  /** Commands that fix it (plain text, for a code block). */
  fix: string[];
  /** The log tail, when the last mover run failed (plain text, for a code block). */
  logTail?: string;
  /** The repository's locks judged as /restic locks judges them, with the buttons for the next step. */
  locks?: Block[];
}

export interface DiagnosisDeps {
  /** For the doctor's checks of the namespace and the stuck pods' events; without it only the objects in hand are read. */
  kube?: Kube;
  pvcLabel: string;
  now: number;
  /** The doctor's input for a namespace; the watch shares one per namespace and round, so a storm reads each namespace once. */
  doctorInput?: (namespace: string) => Promise<DoctorInput>;
  /**
   * The repository's locks, read with restic (the /restic locks answer, buttons included), for a
   * mover that failed on a lock. Given by the composition root: the engine does not run restic.
   */
  lockEvidence?: (namespace: string, name: string) => Promise<Block[]>;
}

function findingFor(p: Problem, findings: readonly Finding[]): Finding[] {
  const h = p.health;
  return findings.filter((f) => f.namespace === p.namespace && (
    (p.kind === 'unprotected' && f.check === 'unprotected-pvc' && f.subject === p.name)
    || (f.check === 'repository-secret' && f.subject === p.name)
    || (f.check === 'longhorn-faulted' && h?.volumeName !== undefined && f.subject === h.volumeName)));
}

/** One problem's diagnosis. Reads the cluster only for the namespace's doctor checks and stuck pods' events; never throws. */
export async function diagnoseProblem(p: Problem, deps: DiagnosisDeps): Promise<SourceDiagnosis> {
  const out: SourceDiagnosis = { lines: [], fix: [] };
  const h = p.health;
  const logs = h?.source.status?.latestMoverStatus?.logs;
  if (p.kind === 'failing' && typeof logs === 'string' && h?.result === 'Failed') {
    const c = classifyMoverLog(logs, { namespace: p.namespace, name: p.name, pods: h.pods });
    if (c) {
      out.headline = c.headline;
      out.lines.push(`*Cause:* ${c.headline}${c.cause ? `. ${c.cause}` : ''}`);
      if (c.nextStep) out.lines.push(`*Next:* ${c.nextStep}`);
      if (c.locked && deps.lockEvidence) {
        try {
          out.locks = await deps.lockEvidence(p.namespace, p.name);
        } catch (err) {
          out.lines.push(`The repository's locks could not be read: ${untrustedLine((err as Error).message, 300)}`);
        }
      }
    }
    out.logTail = h.logTail;
  } else if (p.kind === 'failing' && h?.result === 'Failed') {
    out.lines.push('The last mover run failed and VolSync kept no log of it.');
  }
  // Whether a mover runs, in the words every other reply uses (src/volsync/mover-state.ts).
  if (h && p.kind !== 'unprotected') out.lines.push(moverStateLine(moverState(h.source, h.pods, h.job), deps.now));
  if (p.kind === 'stuck' && h) {
    if (h.volume && h.causes.some((c) => c.kind === 'volume-faulted')) out.headline = `Longhorn volume ${untrustedLine(h.volumeName ?? '', 80)} ${untrustedLine(h.volume.status?.robustness ?? 'unknown', 20)}`;
    const stuck = h.pods.filter((pod) => pod.status?.phase === 'Pending' || pod.status?.phase === undefined);
    if (stuck.length) {
      const reasons = await stuckReasons(deps.kube, stuck, 3).catch(() => new Map<string, string>());
      for (const pod of stuck) {
        const why = reasons.get(key(pod));
        if (why) {
          out.lines.push(`Mover pod ${inlineCode(nameOf(pod), 120)} waits: ${untrustedLine(why, 400)}`);
          out.headline ??= untrustedLine(why, 100);
        }
      }
    }
  }
  if (deps.kube) {
    try {
      const input = await (deps.doctorInput ? deps.doctorInput(p.namespace) : readDoctorInput(deps.kube, p.namespace, deps.pvcLabel));
      const mine = findingFor(p, diagnose(input, { pvcLabel: deps.pvcLabel, namespace: p.namespace, now: deps.now }).findings);
      for (const f of mine) {
        out.lines.push(`*Doctor:* ${f.why}`);
        out.fix.push(...f.fix);
        if (p.kind === 'unprotected') out.headline ??= f.why.replace(/^.*has no ReplicationSource: /, '').replace(/\.$/, '');
        if (f.check === 'repository-secret') out.headline ??= 'repository Secret missing or incomplete';
      }
    } catch (err) {
      out.lines.push(`The doctor's checks of ${inlineCode(p.namespace, 60)} could not run: ${untrustedLine((err as Error).message, 200)}`);
    }
  }
  out.fix = [...new Set(out.fix)];
  return out;
}
