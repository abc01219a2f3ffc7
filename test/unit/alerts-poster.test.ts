// The per-channel Slack queue against the Slack stand-in: pacing, order, 429 + Retry-After, and
// chat.update coalescing.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { ChannelPoster } from '../../src/slack/poster.ts';
import { createWebClient } from '../../src/slack/web-client.ts';
import { startSlackStandIn } from '../harness/slack/slack-stand-in.ts';
import type { SlackStandIn } from '../harness/slack/slack-stand-in.ts';

const log = pino({ level: 'silent' });
const BOT_TOKEN = 'xoxb-8000000001-8000000002-postertestbottoken';

describe('ChannelPoster', () => {
  let slack: SlackStandIn;
  before(async () => {
    slack = await startSlackStandIn({ botToken: BOT_TOKEN });
  });
  after(() => slack.close());
  beforeEach(() => slack.reset());

  const client = () => createWebClient(BOT_TOKEN, { slackApiUrl: slack.apiUrl, log });

  it('paces each channel, keeps order, and lets channels run side by side', async () => {
    slack.setPostMessageLimit(10); // one per 100 ms
    const poster = new ChannelPoster(client(), { minIntervalMs: 120 });
    const started = Date.now();
    const sends = [];
    for (let i = 0; i < 4; i++) {
      sends.push(poster.post({ channel: 'C0AAAAAA1', text: `a${i}` }));
      sends.push(poster.post({ channel: 'C0BBBBBB1', text: `b${i}` }));
    }
    assert.equal(poster.depth, 8);
    assert.equal(poster.depthFor('C0AAAAAA1'), 4);
    await Promise.all(sends);
    const elapsed = Date.now() - started;
    assert.deepEqual(slack.messages('C0AAAAAA1').map((m) => m.text), ['a0', 'a1', 'a2', 'a3']);
    assert.deepEqual(slack.messages('C0BBBBBB1').map((m) => m.text), ['b0', 'b1', 'b2', 'b3']);
    assert.equal(slack.rateLimited().length, 0);
    assert.ok(elapsed >= 3 * 120 - 10, `took ${elapsed} ms`);
    // Two channels side by side, not one after the other: each channel's i-th post goes out before
    // the other's (i+1)-th. (Ordering from the stand-in's own records, not a wall-clock bound, which
    // a loaded machine breaks.)
    const at = (channel: string) => slack.calls('chat.postMessage').filter((c) => c.status === 200 && c.params.channel === channel).map((c) => c.at);
    const [a, b] = [at('C0AAAAAA1'), at('C0BBBBBB1')];
    for (let i = 0; i + 1 < 4; i++) {
      assert.ok(b[i]! <= a[i + 1]! && a[i]! <= b[i + 1]!, `channel posts at ${JSON.stringify({ a, b })} are not interleaved`);
      assert.ok(a[i + 1]! - a[i]! >= 110 && b[i + 1]! - b[i]! >= 110, `a channel's posts are spaced less than the interval: ${JSON.stringify({ a, b })}`);
    }
    assert.equal(poster.depth, 0);
    await poster.idle();
  });

  it('a 429 is waited out (Retry-After) and the message still goes, in order; the poster counts it', async () => {
    slack.setPostMessageLimit(2); // one per 500 ms: the poster's 50 ms spacing hits it
    const poster = new ChannelPoster(client(), { minIntervalMs: 50 });
    const results = await Promise.all([0, 1, 2].map((i) => poster.post({ channel: 'C0CCCCCC1', text: `m${i}` })));
    assert.ok(results.every((r) => r.ok));
    assert.deepEqual(slack.messages('C0CCCCCC1').map((m) => m.text), ['m0', 'm1', 'm2']);
    const limited = slack.rateLimited('chat.postMessage');
    assert.ok(limited.length >= 1);
    const accepted = slack.calls('chat.postMessage').filter((c) => c.status === 200).map((c) => c.at);
    // After a 429 with Retry-After: 1, the next accepted post is at least a second later.
    assert.ok(accepted[1]! - accepted[0]! >= 950, `${accepted[1]! - accepted[0]!} ms between posts`);
    const stats = poster.stats();
    assert.equal(stats.rateLimited, limited.length);
    assert.equal(stats.rateLimitedAnswered, 2);
    assert.equal(stats.failed, 0);
  });

  it('a channel that rate-limits harder than expected gets wider spacing: a few 429s, not one per post', { timeout: 60_000 }, async () => {
    slack.setPostMessageLimit(2); // one per 500 ms, the poster starts at 300 ms
    const poster = new ChannelPoster(client(), { minIntervalMs: 300 });
    await Promise.all(Array.from({ length: 8 }, (_, i) => poster.post({ channel: 'C0FFFFFF1', text: `n${i}` })));
    assert.equal(slack.messages('C0FFFFFF1').length, 8);
    const calls = slack.calls('chat.postMessage');
    const limited = calls.filter((c) => c.status === 429).length;
    assert.ok(limited >= 1 && limited <= 3, `${limited} 429s`);
    assert.ok(calls.slice(-4).every((c) => c.status === 200), 'once learned, the rest go through first time');
  });

  it('waiting updates of one message collapse into the newest', async () => {
    slack.setPostMessageLimit(Infinity);
    const poster = new ChannelPoster(client(), { minIntervalMs: 10, updateIntervalMs: 200 });
    const parent = await poster.post({ channel: 'C0DDDDDD1', text: 'v0' });
    const first = poster.update({ channel: 'C0DDDDDD1', ts: parent.ts!, text: 'v1' });
    const second = poster.update({ channel: 'C0DDDDDD1', ts: parent.ts!, text: 'v2' });
    const third = poster.update({ channel: 'C0DDDDDD1', ts: parent.ts!, text: 'v3' });
    await Promise.all([first, second, third]);
    const updates = slack.calls('chat.update');
    assert.ok(updates.length <= 2, `${updates.length} chat.update calls`);
    assert.equal(slack.message('C0DDDDDD1', parent.ts!)!.text, 'v3');
    assert.ok(poster.stats().updatesCoalesced >= 1);
  });

  it('a failure that is not rate limiting is the caller\'s to handle, and the lane goes on', async () => {
    slack.setPostMessageLimit(Infinity);
    const poster = new ChannelPoster(client(), { minIntervalMs: 10 });
    const bad = poster.post({ channel: 'C0EEEEEE1', text: '' });
    const good = poster.post({ channel: 'C0EEEEEE1', text: 'still posted' });
    await assert.rejects(bad, (err: { data?: { error?: string } }) => err.data?.error === 'no_text');
    assert.equal((await good).ok, true);
    assert.equal(poster.stats().failed, 1);
  });
});
