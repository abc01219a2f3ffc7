import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnosisReply } from '../../src/alerts/diagnosis-reply.ts';
import { classify } from '../../src/alerts/classify.ts';
import { BackupFacts } from '../../src/backup-window/facts.ts';
import { parseFileConfig } from '../../src/config.ts';
import { renderText } from '../../src/terminal/render-text.ts';

const now = new Date('2026-11-22T02:40:00Z');
const target = { namespace: 'kube-system', pod: 'kube-scheduler-talos-monitor' };
const windows = new BackupFacts({ windows: parseFileConfig({}, 'test').windows }).windows(now, target.pod, target.namespace);
const classification = classify({ ...target, previousLog: ['E0226 leaderelection lost'] });
const movers = { movers: [{ namespace: 'media', name: 'volsync-src-plex-abcde', kind: 'source' as const, owner: 'plex', phase: 'Running', since: new Date('2026-11-22T02:04:00Z') }], at: now };

test('without a window lead, the diagnosis states the running backup and the open window itself', () => {
  const text = renderText(diagnosisReply({ target, classification, movers, windows, now }));
  assert.match(text, /Backup window pbs is open/);
  assert.match(text, /plex/);
});

test('with a window lead, the window and the movers are said once, in the lead', () => {
  const lead = [{ type: 'section' as const, text: 'Known transient during the pbs window (02:00–03:30 UTC): backup of media/plex running since 02:04.' }];
  const text = renderText(diagnosisReply({ target, classification, movers, windows, now, lead }));
  assert.ok(text.startsWith('Known transient during the pbs window'));
  assert.doesNotMatch(text, /Backup window pbs is open/);
  assert.equal(text.match(/plex/g)?.length, 1);
});
