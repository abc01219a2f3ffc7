// Reading namespace/pod/container out of crash-loop alerts other integrations post.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractTargets, messageText } from '../../src/alerts/watch-parse.ts';
import { shouldAnnotate } from '../../src/alerts/channel-watch.ts';

describe('extractTargets', () => {
  it('the runbook\'s description with a namespace label', () => {
    // seeds/crashloop-alert-runbook.md: "Container `<container>` in pod `<pod>` has restarted `<N>` times in the last hour."
    const text = 'Container `plex` in pod `plex-5d8c7b9f6d-abcde` has restarted `7` times in the last hour.\nnamespace: media';
    assert.deepEqual(extractTargets(text), [{ pod: 'plex-5d8c7b9f6d-abcde', container: 'plex', namespace: 'media' }]);
  });

  it('kube-prometheus "Pod ns/pod (container)" wording', () => {
    const text = '[FIRING:1] KubePodCrashLooping\nPod backrest/backrest-7d9f8c6b5-x1y2z (backrest) is in waiting state (reason: "CrashLoopBackOff").';
    assert.deepEqual(extractTargets(text), [{ pod: 'backrest-7d9f8c6b5-x1y2z', namespace: 'backrest', container: 'backrest' }]);
  });

  it('label lists with Slack formatting, several alerts each with its own namespace', () => {
    const text = [
      '*Alert:* Pod is crash looping.',
      '*Details:*',
      '  • *alertname:* `KubePodCrashLooping`', '  • *namespace:* `media`', '  • *pod:* `plex-5d8c7b9f6d-abcde`', '  • *container:* `plex`',
      '',
      '*Alert:* Pod is crash looping.',
      '  • *alertname:* `KubePodCrashLooping`', '  • *namespace:* `kube-system`', '  • *pod:* `kube-scheduler-talos-monitor`', '  • *container:* `kube-scheduler`',
    ].join('\n');
    assert.deepEqual(extractTargets(text), [
      { pod: 'plex-5d8c7b9f6d-abcde', namespace: 'media', container: 'plex', alertname: 'KubePodCrashLooping' },
      { pod: 'kube-scheduler-talos-monitor', namespace: 'kube-system', container: 'kube-scheduler', alertname: 'KubePodCrashLooping' },
    ]);
  });

  it('"label = value" lists, a pod named twice counts once, and at most `max` pods', () => {
    const text = 'Labels:\n - alertname = KubePodCrashLooping\n - namespace = media\n - pod = plex-abc-12345\nContainer plex in pod plex-abc-12345 has restarted 3 times.\n - pod = two\n - pod = three\n - pod = four';
    const got = extractTargets(text, 3);
    assert.equal(got.length, 3);
    assert.deepEqual(got[0], { pod: 'plex-abc-12345', namespace: 'media', alertname: 'KubePodCrashLooping', container: 'plex' });
    assert.deepEqual(got.map((t) => t.pod), ['plex-abc-12345', 'two', 'three']);
  });

  it('nothing when no pod is named', () => {
    assert.deepEqual(extractTargets('[FIRING:3] KubePodCrashLooping in namespace media'), []);
  });
});

describe('messageText', () => {
  it('reads text, attachment titles, text, fields and blocks', () => {
    const t = messageText({
      text: 'top',
      attachments: [{ title: '[FIRING:1] KubePodCrashLooping', text: 'Container app in pod p-1 has restarted', fields: [{ title: 'namespace', value: 'media' }] }],
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'from blocks' } }],
    });
    for (const part of ['top', 'KubePodCrashLooping', 'in pod p-1', 'namespace: media', 'from blocks']) assert.ok(t.includes(part), part);
  });
});

describe('shouldAnnotate', () => {
  const base = { channel: 'C0WATCH01', ts: '1.1', bot_id: 'B0ALERTMGR', subtype: 'bot_message' };
  it('only integrations\' messages in watched channels, never our own or edits', () => {
    assert.equal(shouldAnnotate(base, ['C0WATCH01'], 'B0SELF'), true);
    assert.equal(shouldAnnotate({ ...base, channel: 'C0OTHER01' }, ['C0WATCH01'], 'B0SELF'), false);
    assert.equal(shouldAnnotate({ ...base, bot_id: 'B0SELF' }, ['C0WATCH01'], 'B0SELF'), false);
    assert.equal(shouldAnnotate({ channel: 'C0WATCH01', ts: '1.1', user: 'U0PERSON' }, ['C0WATCH01'], 'B0SELF'), false);
    assert.equal(shouldAnnotate({ ...base, subtype: 'message_changed' }, ['C0WATCH01'], 'B0SELF'), false);
  });
});
