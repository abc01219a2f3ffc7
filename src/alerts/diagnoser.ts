/**
 * Turns "this pod is crash-looping" into the thread reply: cluster facts, classification with the
 * configured patterns, backup evidence, and silence buttons scoped to the alert's labels. Shared
 * by the webhook threads and the channel watcher. At most a few diagnoses run at once, so a storm
 * does not turn into a storm of API requests.
 */
import type { Block, Button, Reply } from '../reply.ts';
import type { Kube } from '../kube/client.ts';
import type { CrashPattern } from './classify.ts';
import { classify } from './classify.ts';
import type { BackupFacts, WindowState } from '../backup-window/facts.ts';
import type { PodFacts, PodTarget } from './pod-facts.ts';
import { collectPodFacts } from './pod-facts.ts';
import type { LogReader } from './pod-log.ts';
import { previousLogReader } from './pod-log.ts';
import { diagnosisHeadline, diagnosisReply } from './diagnosis-reply.ts';
import type { ButtonSigner, SilenceKind } from './button-values.ts';
import { epochSeconds, SILENCE_ACTION } from './button-values.ts';
import { timeIn } from '../text.ts';
import { untrustedLine } from '../reply.ts';
import type { WatchSettings } from '../backup/incidents.ts';
import type { BackupAlertTarget } from './backup-alert.ts';
import { diagnoseBackupAlert } from './backup-alert.ts';

export interface DiagnoserOptions {
  kube?: Kube;
  patterns: readonly CrashPattern[];
  /** The backup-window engine: windows covering the pod, running movers. */
  backup: BackupFacts;
  /** Absent: no buttons (no ALERTMANAGER_URL, or no Slack). */
  signer?: ButtonSigner;
  /** How long the 1 h / 4 h buttons stay clickable. */
  buttonTtlMs: number;
  readLog?: LogReader;
  /** The watch's thresholds, for the backup diagnosis of alerts about VolSync (src/alerts/backup-alert.ts). */
  watch?: WatchSettings;
  concurrency?: number;
  now?: () => Date;
}

export interface DiagnoseRequest extends PodTarget {
  /** The alert's labels; the silence is scoped to alertname, namespace, pod and container among them. */
  labels: Record<string, string>;
  lead?: Block[];
}

/** A diagnosis reply, and its headline for the alert group's parent. */
export type Diagnosis = Reply & { headline: string };

// VolSync's metric alerts name their object, Job alerts their Job: a silence covers that one only.
const SCOPE = ['alertname', 'namespace', 'pod', 'container', 'obj_namespace', 'obj_name', 'job_name'] as const;

export function silenceScope(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of SCOPE) if (labels[k]) out[k] = labels[k];
  return out;
}

/** The window a "until the window ends" silence would last to, if one applies now. */
export function windowForSilence(ws: WindowState[], transientPattern: boolean): WindowState | undefined {
  const live = ws.filter((w) => w.open || w.inGrace);
  // The window the pod is known to crash in beats any other open one.
  const chosen = live.find((w) => w.transientPod) ?? live[0];
  if (chosen) return chosen;
  if (!transientPattern && !ws.some((w) => w.transientPod)) return undefined;
  return ws.find((w) => w.transientPod) ?? [...ws].sort((a, b) => a.instance.start.getTime() - b.instance.start.getTime())[0];
}

/** What the alert paths need of a diagnoser (start-alerts hands them one that loads this module on first use). */
export interface Diagnosing {
  diagnose(req: DiagnoseRequest): Promise<Diagnosis>;
  diagnoseBackup(target: BackupAlertTarget, labels: Record<string, string>): Promise<Diagnosis>;
}

export class Diagnoser implements Diagnosing {
  #o: DiagnoserOptions;
  #readLog: LogReader | undefined;
  #running = 0;
  #waiting: Array<() => void> = [];

  constructor(o: DiagnoserOptions) {
    this.#o = o;
    this.#readLog = o.readLog ?? (o.kube ? previousLogReader(o.kube) : undefined);
  }

  async diagnose(req: DiagnoseRequest): Promise<Diagnosis> {
    await this.#slot();
    try {
      return await this.#diagnose(req);
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }

  /** The backup diagnosis of an alert about a VolSync source or destination, with the same silence buttons. */
  async diagnoseBackup(target: BackupAlertTarget, labels: Record<string, string>): Promise<Diagnosis> {
    await this.#slot();
    try {
      const now = this.#o.now?.() ?? new Date();
      const buttons = this.#o.signer ? this.silenceButtons(labels, this.#o.backup.windows(now, labels['pod'], target.namespace), false, now) : [];
      const actions: Block[] = buttons.length ? [{ type: 'actions', buttons }] : [];
      if (!this.#o.kube || !this.#o.watch) {
        const text = `Alert about the backup of ${target.namespace}/${target.name}; no cluster is configured, so there is no diagnosis.`;
        return { text, blocks: [{ type: 'section', text: untrustedLine(text, 300) }, ...actions], visibility: 'channel', tone: 'warn', headline: `backup ${target.namespace}/${target.name}` };
      }
      try {
        const d = await diagnoseBackupAlert(target, labels['alertname'], { kube: this.#o.kube, settings: this.#o.watch, now });
        return { text: d.text, blocks: [...d.blocks, ...actions], visibility: 'channel', tone: 'warn', headline: d.headline };
      } catch (err) {
        // A status no VolSync would write: one clear line, and the round goes on.
        const id = `${target.namespace}/${target.name}`;
        const why = untrustedLine((err as Error).message, 300);
        const text = `:grey_question: Could not diagnose the backup of \`${id}\`: ${why}. \`/backup status ${target.namespace} ${target.name}\` shows the source.`;
        return { text: `Could not diagnose the backup of ${id}.`, blocks: [{ type: 'section', text }, ...actions], visibility: 'channel', tone: 'warn', headline: `backup ${id}` };
      }
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }

  async #slot(): Promise<void> {
    const limit = this.#o.concurrency ?? 4;
    while (this.#running >= limit) await new Promise<void>((r) => this.#waiting.push(r));
    this.#running++;
  }

  async #diagnose(req: DiagnoseRequest): Promise<Diagnosis> {
    const now = this.#o.now?.() ?? new Date();
    const target: PodTarget = { namespace: req.namespace, pod: req.pod, ...(req.container ? { container: req.container } : {}) };
    // A lead from the backup window already states the window and the running movers: they are
    // looked up and said once, there.
    const lead = req.lead?.length ? req.lead : undefined;
    const [facts, movers] = await Promise.all([
      this.#o.kube && this.#readLog ? collectPodFacts(this.#o.kube, target, this.#readLog) : Promise.resolve<PodFacts | undefined>(undefined),
      lead ? Promise.resolve(undefined) : this.#o.backup.movers(),
    ]);
    const evidence = facts?.evidence ?? { pod: req.pod, namespace: req.namespace, ...(req.container ? { container: req.container } : {}) };
    const classification = classify(evidence, this.#o.patterns);
    const windows = this.#o.backup.windows(now, req.pod, req.namespace);
    const buttons = this.#o.signer ? this.silenceButtons(req.labels, windows, classification.transientInBackupWindow, now) : undefined;
    const reply = diagnosisReply({
      target: facts?.evidence.container && !target.container ? { ...target, container: facts.evidence.container } : target,
      ...(req.labels['alertname'] ? { alertname: req.labels['alertname'] } : {}),
      ...(facts ? { facts } : { factsMissing: 'No cluster configured, so there are no pod facts, events or logs here.' }),
      classification,
      ...(movers ? { backup: { movers, windows } } : {}),
      ...(lead ? { lead } : {}),
      ...(buttons?.length ? { buttons } : {}),
      now,
    });
    return { ...reply, headline: diagnosisHeadline(classification, windows) };
  }

  silenceButtons(labels: Record<string, string>, windows: WindowState[], transientPattern: boolean, now: Date): Button[] {
    const signer = this.#o.signer;
    const scope = silenceScope(labels);
    if (!signer || Object.keys(scope).length === 0) return [];
    const x = epochSeconds(new Date(now.getTime() + this.#o.buttonTtlMs));
    const button = (k: SilenceKind, text: string, extra: { e?: number; w?: string; x?: number } = {}): Button => ({
      text,
      actionId: SILENCE_ACTION,
      value: signer.encode({ k, l: scope, x, ...extra }),
    });
    const out: Button[] = [];
    const w = windowForSilence(windows, transientPattern);
    if (w && w.instance.graceEnd > now) {
      const end = w.instance.graceEnd;
      out.push(button('window', `Silence until ${w.name} ends (${timeIn(end, w.zone, now)})`, { e: epochSeconds(end), w: w.name, x: Math.min(x, epochSeconds(end)) }));
    }
    out.push(button('1h', 'Silence 1 h'), button('4h', 'Silence 4 h'));
    return out;
  }
}
