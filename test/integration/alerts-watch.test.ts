// Channel-watch mode on the real bot process: a crash-loop alert that Alertmanager's own Slack
// receiver posted (a bot_message event) gets the diagnosis in its thread; other messages do not.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHttpBot, writeBotConfig } from '../harness/bot-process.ts';
import type { BotProcess } from '../harness/bot-process.ts';
import { kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { kubeWithNamespaces } from '../harness/kube-objects.ts';
import { startSlackStandIn, validateBlocks } from '../harness/slack/slack-stand-in.ts';
import type { SlackStandIn } from '../harness/slack/slack-stand-in.ts';
import { stopAll } from '../harness/stop-all.ts';
import { MERGE_PATCH } from '../../src/kube/client.ts';
import type { Kube } from '../../src/kube/client.ts';

const skip = await kubeUnavailableReason();
const WATCHED = 'C0WATCH01';
const ELSEWHERE = 'C0OTHER01';
const NS = `watch-${process.pid}`;
const BOT_TOKEN = 'xoxb-6000000001-6000000002-watchtestbottoken';
const SIGNING = 'watch-signing-secret-0c1d';

// What Alertmanager's Slack receiver posts with the common kube-prometheus template.
function alertmanagerMessage(ts: string, pod: string, withNamespace: boolean) {
  return {
    type: 'message', subtype: 'bot_message', bot_id: 'B0ALERTMGR', username: 'Alertmanager', channel: WATCHED, ts,
    text: '',
    attachments: [{
      color: 'danger',
      title: '[FIRING:1] KubePodCrashLooping (app warning)',
      text: [
        '*Alert:* Pod is crash looping. - `warning`',
        `*Description:* Container app in pod ${pod} has restarted 7 times in the last hour.`,
        '*Details:*',
        '  • *alertname:* `KubePodCrashLooping`',
        withNamespace ? `  • *namespace:* \`${NS}\`` : '',
        `  • *pod:* \`${pod}\``,
        '  • *container:* `app`',
      ].filter(Boolean).join('\n'),
      fallback: '[FIRING:1] KubePodCrashLooping',
    }],
  };
}

describe('channel-watch: annotating alerts another integration posted', { skip }, () => {
  let harness: KubeHarness;
  let kube: Kube;
  let slack: SlackStandIn;
  let bot: BotProcess;

  before(async () => {
    ({ harness, kube } = await kubeWithNamespaces(NS));
    await kube.core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'backrest-7d9f8c6b5-x1y2z' }, spec: { containers: [{ name: 'app', image: 'garethgeorge/backrest:v1.12.0' }] } } });
    await kube.core.patchNamespacedPodStatus({ name: 'backrest-7d9f8c6b5-x1y2z', namespace: NS, body: { status: { phase: 'Running', containerStatuses: [{
      name: 'app', ready: false, restartCount: 7, image: 'garethgeorge/backrest:v1.12.0', imageID: '',
      state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } },
    }] } } }, MERGE_PATCH);
    slack = await startSlackStandIn({ botToken: BOT_TOKEN, signingSecret: SIGNING });
    const file = writeBotConfig('watch', { alerts: { channel: WATCHED, watchChannels: [WATCHED] } });
    bot = await startHttpBot(slack, { KUBECONFIG: harness.kubeconfigPath, POD_NAMESPACE: NS, BACKUP_BOT_CONFIG: file });
  }, { timeout: 180_000 });

  after(() => stopAll(bot, slack, harness));

  test('replies in the alert\'s thread with the diagnosis of the pod it names', async () => {
    const ts = '1760000000.000100';
    const sent = await slack.sendEventHttp({ event: alertmanagerMessage(ts, 'backrest-7d9f8c6b5-x1y2z', true) });
    assert.equal(sent.status, 200);
    const [reply] = await slack.waitFor(() => { const r = slack.threadReplies(WATCHED, ts); return r.length ? r : undefined; }, 15_000, 'a reply in the alert\'s thread');
    const body = JSON.stringify(reply!.blocks);
    assert.match(body, new RegExp(`${NS}/backrest-7d9f8c6b5-x1y2z`));
    assert.match(body, /Restarts: \*7\*/);
    assert.match(body, /KubePodCrashLooping/);
    assert.deepEqual(validateBlocks(reply!.blocks ?? []), []);
  });

  test('a message that names the pod but not its namespace is found by name in the cluster', async () => {
    const ts = '1760000000.000200';
    await slack.sendEventHttp({ event: alertmanagerMessage(ts, 'backrest-7d9f8c6b5-x1y2z', false) });
    const [reply] = await slack.waitFor(() => { const r = slack.threadReplies(WATCHED, ts); return r.length ? r : undefined; }, 15_000, 'a reply');
    assert.match(JSON.stringify(reply!.blocks), new RegExp(`${NS}/backrest-7d9f8c6b5-x1y2z`));
  });

  test('people\'s messages, other channels and a redelivered event get nothing (more)', async () => {
    const before = slack.allMessages().length;
    await slack.sendEventHttp({ event: { type: 'message', user: 'U0PERSON1', channel: WATCHED, ts: '1760000000.000300', text: 'is KubePodCrashLooping for pod: backrest-7d9f8c6b5-x1y2z ours?' } });
    await slack.sendEventHttp({ event: { ...alertmanagerMessage('1760000000.000400', 'backrest-7d9f8c6b5-x1y2z', true), channel: ELSEWHERE } });
    await slack.sendEventHttp({ event: alertmanagerMessage('1760000000.000100', 'backrest-7d9f8c6b5-x1y2z', true) });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(slack.allMessages().length, before);
  });
});
