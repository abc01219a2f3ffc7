/**
 * A crash-loop diagnosis as one thread reply, readable on a phone: what crashed and what to do
 * first, then the facts (restarts, last exit, owner, resources), whether a backup is running, the
 * evidence and the log tail, recent events, and the silence buttons last.
 */
import type { Block, Button, Reply } from '../reply.ts';
import { clipText as clip, codeBlockText, escapeMrkdwn } from '../reply.ts';
import type { Classification } from './classify.ts';
import type { MoverSnapshot, WindowState } from '../backup-window/facts.ts';
import type { PodFacts, PodTarget } from './pod-facts.ts';
import { code } from './format.ts';
import { duration as age, oneLine, plural, timeIn } from '../text.ts';

export const LOG_LINES_SHOWN = 12;
const LOG_CHARS_SHOWN = 1500;
/** Evidence lines classify() writes from pod facts that the facts line shows already. */
const FACT_EVIDENCE = /^(restarts|exit code|waiting reason|last termination reason|deployment strategy|replicas|memory limit|image): /;

export interface DiagnosisInput {
  target: PodTarget;
  alertname?: string;
  facts?: PodFacts;
  /** Why there are no facts (no cluster). */
  factsMissing?: string;
  classification: Classification;
  /**
   * Whether a backup runs and which window is open, when no lead says so: the window's annotation
   * (the lead) states the same facts, so the diagnoser asks for them only without one.
   */
  backup?: { movers: MoverSnapshot; windows: WindowState[] };
  /** Blocks from the hooks, shown first. */
  lead?: Block[];
  buttons?: Button[];
  now: Date;
}

export function podLabel(t: PodTarget): string {
  return `${code(`${t.namespace}/${t.pod}`, 120)}${t.container ? ` (${oneLine(t.container, 60)})` : ''}`;
}

function factsLine(f: PodFacts, now: Date): string[] {
  const e = f.evidence;
  const out: string[] = [];
  if (e.restartCount !== undefined) out.push(`Restarts: *${e.restartCount}*`);
  if (e.waitingReason) out.push(`Waiting: ${oneLine(e.waitingReason, 100)}`);
  const t = e.lastTermination;
  if (t) {
    const when = t.finishedAt ? `, ${timeIn(new Date(t.finishedAt), 'UTC', now)} (${age(now.getTime() - new Date(t.finishedAt).getTime())} ago)` : '';
    out.push(`Last exit: ${oneLine(t.reason ?? 'terminated', 100)}${t.exitCode !== undefined ? `, code ${t.exitCode}` : ''}${when}`);
  }
  if (f.owner) {
    const o = f.owner;
    const bits = [`${oneLine(o.kind, 60)} ${code(o.name, 120)}`];
    if (o.strategy) bits.push(`strategy ${oneLine(o.strategy, 60)}`);
    if (o.replicas !== undefined) bits.push(plural(o.replicas, 'replica'));
    out.push(`Owner: ${bits.join(' · ')}${o.error ? ` (${oneLine(o.error, 150)})` : ''}`);
  }
  if (f.resources) out.push(`Resources: ${oneLine(f.resources, 300)}`);
  if (e.image) out.push(`Image: ${code(e.image.length > 120 ? `…${e.image.slice(-119)}` : e.image, 120)}`);
  return out;
}

export function moverLines(m: MoverSnapshot, namespace: string | undefined, now: Date): string[] {
  if (m.error) return [`:grey_question: Whether a backup is running is unknown: ${oneLine(m.error, 200)}`];
  if (m.movers.length === 0) return [':white_circle: No VolSync mover pod is running right now.'];
  // The alert's own namespace first: that backup is the likeliest suspect.
  const sorted = [...m.movers].sort((a, b) => Number(b.namespace === namespace) - Number(a.namespace === namespace));
  const lines = sorted.slice(0, 3).map((p) => {
    const verb = p.phase === 'Running' ? 'running' : `starting (${oneLine(p.phase, 40)})`;
    const since = p.since ? ` since ${timeIn(p.since, 'UTC', now)} (${age(now.getTime() - p.since.getTime())})` : '';
    return `:floppy_disk: ${p.kind === 'source' ? 'Backup' : 'Restore'} of ${code(`${p.namespace}/${p.owner}`, 120)} ${verb}${since}: ${code(p.name, 120)}`;
  });
  if (sorted.length > 3) lines.push(`…and ${sorted.length - 3} more mover pods.`);
  return lines;
}

export function windowLines(ws: WindowState[], pod: string | undefined, now: Date): string[] {
  const lines: string[] = [];
  for (const w of ws) {
    const i = w.instance;
    const span = `${timeIn(i.start, w.zone, now).replace(/ \S+$/, '')}–${timeIn(i.end, w.zone, now)}`;
    const transient = w.transientPod && pod ? ` ${code(pod, 120)} is a known transient crasher in this window.` : '';
    if (w.open) lines.push(`:clock2: Backup window *${escapeMrkdwn(w.name)}* is open (${span}).${transient}`);
    else if (w.inGrace) lines.push(`:clock3: Backup window *${escapeMrkdwn(w.name)}* closed at ${timeIn(i.end, w.zone, now)}; its grace runs to ${timeIn(i.graceEnd, w.zone, now)}.${transient}`);
  }
  if (lines.length === 0 && ws.length > 0) {
    const next = [...ws].sort((a, b) => a.instance.start.getTime() - b.instance.start.getTime())[0]!;
    lines.push(`No backup window is open; the next, *${escapeMrkdwn(next.name)}*, opens ${timeIn(next.instance.start, next.zone, now)}.`);
  }
  return lines;
}

function logBlock(f: PodFacts | undefined): Block[] {
  if (!f) return [];
  if ('unavailable' in f.log) return [{ type: 'context', elements: [`Previous log: ${oneLine(f.log.unavailable, 300)}`] }];
  const shown = f.log.lines.slice(-LOG_LINES_SHOWN);
  return [
    { type: 'context', elements: [`Previous container's log, last ${shown.length} of ${f.log.lines.length} lines`] },
    { type: 'code', text: codeBlockText(shown.join('\n'), LOG_CHARS_SHOWN) },
  ];
}

function eventBlock(f: PodFacts | undefined, now: Date): Block[] {
  if (!f) return [];
  if (f.eventsError) return [{ type: 'context', elements: [`Events: ${oneLine(f.eventsError, 300)}`] }];
  if (f.events.length === 0) return [];
  return [{
    type: 'context',
    elements: f.events.map((e) => {
      const icon = e.type === 'Warning' ? ':warning:' : ':information_source:';
      const when = e.at ? ` · ${age(now.getTime() - e.at.getTime())} ago` : '';
      return `${icon} *${oneLine(e.reason, 100)}*${e.count > 1 ? ` ×${e.count}` : ''}${when}: ${oneLine(e.message, 200)}`;
    }),
  }];
}

/**
 * The diagnosis in a few words, for the alert group's parent: "OOMKilled at 256Mi: raise to 512Mi",
 * "Leader election lost: known transient during pbs", else the pattern's title. Plain text (the
 * parent escapes it): the memory limit and the window's name come from outside.
 */
export function diagnosisHeadline(c: Pick<Classification, 'id' | 'title' | 'details' | 'transientInBackupWindow'>, windows: readonly WindowState[]): string {
  const d = c.details;
  if (c.id === 'oom-killed' && d['memoryLimit']) return `OOMKilled at ${d['memoryLimit']}${d['nextMemoryTier'] ? `: raise to ${d['nextMemoryTier']}` : ''}`;
  const live = windows.filter((w) => w.open || w.inGrace);
  // Known transient: the pod is a configured transient crasher of an open window, or the pattern is one.
  const w = live.find((x) => x.transientPod) ?? (c.transientInBackupWindow ? live[0] : undefined);
  if (w) return `${c.title.split(':')[0]!.trim()}: known transient during ${w.name}`;
  return c.title;
}

export function diagnosisReply(d: DiagnosisInput): Reply {
  const c = d.classification;
  const who = podLabel(d.target);
  const blocks: Block[] = [...(d.lead ?? [])];
  const alert = d.alertname ? ` · ${oneLine(d.alertname, 100)}` : '';
  // Title, cause and next step quote the log and the pod's status (outside text).
  blocks.push({ type: 'section', text: `:rotating_light: *${oneLine(c.title, 200)}* · ${who}${alert}\n${escapeMrkdwn(clip(c.cause, 1500))}` });
  blocks.push({ type: 'section', text: `:point_right: *Next step:* ${escapeMrkdwn(clip(c.nextStep, 1500))}` });
  if (d.facts) {
    if (d.facts.error) blocks.push({ type: 'context', elements: [`:grey_question: ${oneLine(d.facts.error, 300)}`] });
    const facts = factsLine(d.facts, d.now);
    if (facts.length) blocks.push({ type: 'context', elements: facts });
  } else if (d.factsMissing) {
    blocks.push({ type: 'context', elements: [`:grey_question: ${oneLine(d.factsMissing, 300)}`] });
  }
  if (d.backup) {
    blocks.push({ type: 'context', elements: [...moverLines(d.backup.movers, d.target.namespace, d.now), ...windowLines(d.backup.windows, d.target.pod, d.now)] });
  }
  const logLines = d.facts && 'lines' in d.facts.log ? new Set(d.facts.log.lines.slice(-LOG_LINES_SHOWN).map((l) => l.trim())) : new Set<string>();
  // Evidence the facts line or the log tail below already shows would only repeat it.
  const restated = d.facts?.found ? FACT_EVIDENCE : /^$/;
  const evidence = c.evidence.filter((l) => !logLines.has(l.trim()) && !restated.test(l));
  if (evidence.length) blocks.push({ type: 'context', elements: ['Evidence'] }, { type: 'code', text: codeBlockText(evidence.map((l) => clip(l, 300)).join('\n'), 1500) });
  blocks.push(...logBlock(d.facts));
  blocks.push(...eventBlock(d.facts, d.now));
  if (d.buttons?.length) blocks.push({ type: 'actions', buttons: d.buttons });
  // The notification text: outside text too (a pod label reached it as `<!channel>`).
  const text = oneLine(`${c.title}: ${d.target.namespace}/${d.target.pod}. Next step: ${c.nextStep}`, 300);
  return { text, blocks, visibility: 'channel', tone: 'warn' };
}
