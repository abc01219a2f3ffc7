// Slack failing under the bot: 5xx bursts, 429 bursts with Retry-After, and calls that time out,
// while the real bot process turns 40 Alertmanager notifications into threads and answers
// commands through response_url. Target: nothing acknowledged is lost, nothing is posted twice,
// and every Retry-After is waited out before the next post to that channel.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { postTargetDownAlerts } from '../harness/alert-payloads.ts';
import { startHttpBot, writeBotConfig } from '../harness/bot-process.ts';
import type { BotProcess } from '../harness/bot-process.ts';
import { startSlackStandIn } from '../harness/slack/slack-stand-in.ts';
import type { SlackStandIn, StoredMessage } from '../harness/slack/slack-stand-in.ts';
import { stopAll } from '../harness/stop-all.ts';

const CHANNEL = 'C0FAULTS';
const TOKEN = 'faults-webhook-token-3e9a';
const BOT_TOKEN = 'xoxb-test-faults-bot-token';
const SIGNING = 'faults-signing-secret-77';

const text = (m: StoredMessage) => `${m.text} ${JSON.stringify(m.blocks ?? [])}`;

/** Messages whose thread, text and blocks repeat an earlier live message: a post that went out twice. */
function duplicates(messages: StoredMessage[]): string[] {
  const seen = new Set<string>();
  const dups: string[] = [];
  for (const m of messages) {
    if ((m as { deleted?: boolean }).deleted) continue;
    const key = `${m.thread_ts ?? ''}|${text(m)}`;
    if (seen.has(key)) dups.push(m.text.slice(0, 80));
    seen.add(key);
  }
  return dups;
}

describe('Slack answering 5xx, 429 and timing out, real bot process', () => {
  let slack: SlackStandIn;
  let bot: BotProcess;

  before(async () => {
    slack = await startSlackStandIn({ botToken: BOT_TOKEN, signingSecret: SIGNING });
    bot = await startHttpBot(slack, { ALERTMANAGER_WEBHOOK_TOKEN: TOKEN, BACKUP_BOT_CONFIG: writeBotConfig('faults-slack', { alerts: { channel: CHANNEL } }) });
  }, { timeout: 60_000 });

  after(() => stopAll(bot, slack));

  test('40 alerts through 5xx and 429 bursts and a timeout: none lost, none twice, Retry-After honoured', { timeout: 180_000 }, async () => {
    // Bursts, in the order Slack serves them: three 500s, two 503s, three 429s (Retry-After 2 s), one hang past the client's timeout.
    slack.failNext('chat.postMessage', 3, { status: 500 });
    slack.failNext('chat.postMessage', 2, { status: 503 });
    slack.failNext('chat.postMessage', 3, { status: 429, retryAfter: 2 });
    slack.failNext('chat.postMessage', 1, { hangMs: 16_000 });
    const armed = slack.pendingFaults();
    const pods = await postTargetDownAlerts(bot.url, TOKEN, 40, 8);
    const postedPods = () => {
      // Listed in a thread reply: a parent names a few of its pods, which proves none delivered.
      const all = slack.allMessages(CHANNEL).filter((m) => m.thread_ts !== undefined).map(text);
      return pods.filter((p) => all.some((t) => new RegExp(`${p}(?![0-9])`).test(t)));
    };
    let lost = pods.length;
    let dups: string[] = [];
    try {
      await slack.waitFor(() => (postedPods().length === pods.length && slack.pendingFaults() === 0 ? true : undefined), 150_000, 'every alert posted');
      // Let anything still queued (a retry of a timed-out call) land before counting duplicates.
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      lost = pods.length - postedPods().length;
      dups = duplicates(slack.allMessages(CHANNEL));
      const served = slack.calls('chat.postMessage');
      console.log(`fault: Slack 5xx×5 + 429×3 + timeouts×1 during 40 alerts: lost = ${lost}, duplicates = ${dups.length} (${served.length} chat.postMessage calls, ${armed - slack.pendingFaults()} of ${armed} faults served)`);
    }
    assert.equal(lost, 0);
    assert.deepEqual(dups, [], 'nothing posted twice');
    assert.equal(slack.messages(CHANNEL).length, 8, 'one parent per group');
    // Retry-After: the next post to the same channel after a 429 waits at least that long.
    const calls = slack.calls('chat.postMessage');
    for (const [i, c] of calls.entries()) {
      if (c.status !== 429) continue;
      const next = calls.slice(i + 1).find((n) => n.params['channel'] === c.params['channel']);
      assert.ok(next, 'the rate-limited post was retried');
      assert.ok(next.at - c.at >= c.retryAfter! * 1000 - 50, `posted again ${next.at - c.at} ms after a 429 with Retry-After ${c.retryAfter} s`);
    }
  });

  test('command replies through response_url 5xx, 429 and a timeout: each reply shown once', { timeout: 120_000 }, async () => {
    const cases = [
      { what: '5xx', arm: () => { slack.failNext('response_url', 1, { status: 500 }); slack.failNext('response_url', 1, { status: 503 }); } },
      { what: '429', arm: () => slack.failNext('response_url', 2, { status: 429, retryAfter: 1 }) },
      { what: 'timeout', arm: () => slack.failNext('response_url', 1, { hangMs: 16_000 }) },
    ];
    let lost = 0;
    let twice = 0;
    for (const c of cases) {
      c.arm();
      const sent = await slack.sendSlashCommandHttp({ command: '/backup', text: 'help', channel_id: CHANNEL });
      assert.equal(sent.status, 200);
      const shown = () => slack.responses(sent.responseUrlId).filter((r) => r.via === 'response_url' && r.status === 200);
      try {
        await slack.waitFor(() => (shown().length > 0 ? true : undefined), 25_000, `the reply after ${c.what}`);
        await new Promise((r) => setTimeout(r, 1500));
      } catch {
        lost += 1;
        continue;
      } finally {
        twice += Math.max(0, shown().length - 1);
      }
    }
    console.log(`fault: Slack response_url 5xx×2 + 429×2 + timeouts×1 during 3 commands: lost = ${lost}, duplicates = ${twice}`);
    assert.equal(lost, 0, 'every command reply reached the user');
    assert.equal(twice, 0, 'no reply shown twice');
  });
});
