import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnosisHeadline, diagnosisReply } from '../../src/alerts/diagnosis-reply.ts';
import { classify, DEFAULT_PATTERNS } from '../../src/alerts/classify.ts';
import { Diagnoser } from '../../src/alerts/diagnoser.ts';
import { BackupFacts } from '../../src/backup-window/facts.ts';
import { parseFileConfig } from '../../src/config.ts';
import { renderText } from '../../src/terminal/render-text.ts';

const now = new Date('2026-11-22T02:40:00Z');
const target = { namespace: 'kube-system', pod: 'kube-scheduler-talos-monitor' };
const windows = new BackupFacts({ windows: parseFileConfig({}, 'test').windows }).windows(now, target.pod, target.namespace);
const classification = classify({ ...target, previousLog: ['E0226 leaderelection lost'] });
const movers = { movers: [{ namespace: 'media', name: 'volsync-src-plex-abcde', kind: 'source' as const, owner: 'plex', phase: 'Running', since: new Date('2026-11-22T02:04:00Z') }], at: now };

test('without a window lead, the diagnosis states the running backup and the open window itself', () => {
  const text = renderText(diagnosisReply({ target, classification, backup: { movers, windows }, now }));
  assert.match(text, /Backup window pbs is open/);
  assert.match(text, /plex/);
});

test('with a window lead, the window and the movers are looked up and said once, in the lead', async () => {
  const lead = [{ type: 'section' as const, text: 'Known transient during the pbs window (02:00–03:30 UTC): backup of media/plex running since 02:04.' }];
  let lookups = 0;
  const moverPods = async (at: Date) => {
    lookups++;
    return { pods: [{ metadata: { namespace: 'media', name: 'volsync-src-plex-abcde' }, status: { phase: 'Running', startTime: new Date('2026-11-22T02:04:00Z') } }], at };
  };
  const diagnoser = new Diagnoser({
    patterns: DEFAULT_PATTERNS,
    backup: new BackupFacts({ moverPods, windows: parseFileConfig({}, 'test').windows, now: () => now }),
    buttonTtlMs: 3600_000,
    now: () => now,
  });
  const led = renderText(await diagnoser.diagnose({ ...target, labels: {}, lead }));
  assert.ok(led.startsWith('Known transient during the pbs window'));
  assert.doesNotMatch(led, /Backup window pbs is open/);
  assert.equal(led.match(/plex/g)?.length, 1);
  assert.equal(lookups, 0);
  // Without a lead the diagnosis says it itself, from one lookup.
  const own = renderText(await diagnoser.diagnose({ ...target, labels: {} }));
  assert.match(own, /Backup window pbs is open/);
  assert.match(own, /Backup of media\/plex running/);
  assert.equal(lookups, 1);
});

test('the headline for the parent: the cause in a few words, "known transient" only while a window covers the pod', () => {
  // The leader-election case of the seed, in the open pbs window at 02:40.
  assert.equal(diagnosisHeadline(classification, windows), 'Leader election lost: known transient during pbs');
  const closed = new BackupFacts({ windows: parseFileConfig({}, 'test').windows }).windows(new Date('2026-11-22T12:00:00Z'), target.pod, target.namespace);
  assert.equal(diagnosisHeadline(classification, closed), classification.title);
  const oom = classify({ namespace: 'media', pod: 'plex-5d8c7b9f6d-abcde', container: 'plex', lastTermination: { reason: 'OOMKilled', exitCode: 137 }, memoryLimit: '256Mi' });
  assert.equal(oom.id, 'oom-killed');
  assert.equal(diagnosisHeadline(oom, windows), 'OOMKilled at 256Mi: raise to 512Mi');
  // Nothing recognised: the title as it is.
  const unknown = classify({ namespace: 'media', pod: 'x-1', previousLog: ['nothing to see'] });
  assert.equal(diagnosisHeadline(unknown, closed), unknown.title);
});
