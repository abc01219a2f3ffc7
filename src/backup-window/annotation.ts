/**
 * The blocks put first in a crash-loop alert's thread while a window is open: either "this is the
 * window's known transient" with the evidence that a backup is running, or "this happens during
 * the window but is not one of its known-transient pods: investigate".
 */
import type { Block } from '../reply.ts';
import { escapeMrkdwn } from '../reply.ts';
import type { WindowInstance } from '../window/index.ts';
import type { MoverEvidence } from './mover-evidence.ts';
import { formatInZone as clockIn, plural, timeRange as windowRange } from '../text.ts';
import type { WindowSettings } from './window-settings.ts';

export interface AnnotationInput {
  window: WindowSettings;
  instance: WindowInstance;
  /** When the alert arrived. */
  at: Date;
  labels: Record<string, string>;
  transient: boolean;
  evidence: MoverEvidence;
}

function podName(labels: Record<string, string>): string {
  const pod = labels['pod'] ?? '(no pod label)';
  // Shown inside a code span: a backtick in the label must not close it.
  return escapeMrkdwn((labels['namespace'] ? `${labels['namespace']}/${pod}` : pod).slice(0, 120).replace(/`/g, "'"));
}

/** "backup of media/plex running since 02:04 UTC" and friends; one line for the thread. */
export function evidenceLine(e: MoverEvidence, zone: string): string {
  if (e.error) return `Could not check whether a backup is running: ${e.error}`;
  if (e.running.length === 0) {
    const pending = e.pending > 0 ? ` (${plural(e.pending, 'mover pod')} still starting)` : '';
    return `No VolSync mover is running right now (checked ${clockIn(e.checkedAt, zone)})${pending}: the backup I/O that explains this pattern may be over.`;
  }
  const shown = e.running.slice(0, 3).map((m) => `${escapeMrkdwn(m.what)} running${m.since ? ` since ${clockIn(m.since, zone)}` : ''}`);
  const more = e.running.length > 3 ? ` and ${e.running.length - 3} more` : '';
  return `Backup running now: ${shown.join(', ')}${more}.`;
}

export function annotationBlocks(a: AnnotationInput): Block[] {
  const { window: w, instance } = a;
  const range = windowRange(instance, w.zone);
  const inGrace = a.at.getTime() >= instance.end.getTime();
  const graceNote = `the ${escapeMrkdwn(w.name)} backup window (${range}) ended at ${clockIn(instance.end, w.zone)}; crashes until ${clockIn(instance.graceEnd, w.zone)} still count as its`;
  const evidence: Block = { type: 'context', elements: [evidenceLine(a.evidence, w.zone)] };
  if (a.transient) {
    const until = clockIn(inGrace ? instance.graceEnd : instance.end, w.zone);
    const escalation = instance.graceEnd.getTime() > instance.end.getTime()
      ? `If it is still crash-looping at ${clockIn(instance.graceEnd, w.zone)}, the window summary escalates it.`
      : 'If it is still crash-looping when the window closes, the window summary escalates it.';
    return [
      {
        type: 'section',
        text: `:hourglass_flowing_sand: *Known transient ${inGrace ? 'pattern' : `during the ${escapeMrkdwn(w.name)} window (${range})`}*, expected to recover by ${until}: \`${podName(a.labels)}\` is one of the window's known-transient pods${inGrace ? `; ${graceNote}` : ''}. ${escalation}`,
      },
      evidence,
    ];
  }
  return [
    {
      type: 'section',
      text: `:mag: *In the ${escapeMrkdwn(w.name)} backup window (${range}), but not a known-transient pod: investigate.* \`${podName(a.labels)}\` is not among ${w.transientPods.map((p) => `\`${escapeMrkdwn(p)}\``).join(', ')}${w.namespaces.length > 0 ? ` in ${w.namespaces.map(escapeMrkdwn).join(', ')}` : ''}.`,
    },
    evidence,
  ];
}
