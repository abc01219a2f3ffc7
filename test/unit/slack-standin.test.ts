import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { App, LogLevel } from '@slack/bolt';
import { SocketModeClient } from '@slack/socket-mode';
import { ErrorCode, WebClient, WebClientEvent, type WebAPIPlatformError } from '@slack/web-api';
import { startSlackStandIn, validateBlocks, type SlackStandIn } from '../harness/slack/slack-stand-in.ts';

// The stand-in is only useful if the real Slack clients accept it and it refuses what Slack
// refuses, so these tests drive it with @slack/web-api, @slack/socket-mode and Bolt themselves.

// Slack's response_metadata warnings are expected here; keep them out of the test output.
const quiet = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => LogLevel.ERROR, setName() {} };

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

async function platformError(p: Promise<unknown>): Promise<WebAPIPlatformError['data']> {
  try {
    await p;
  } catch (e) {
    const err = e as WebAPIPlatformError;
    assert.equal(err.code, ErrorCode.PlatformError, `expected a Slack platform error, got ${String(e)}`);
    return err.data;
  }
  assert.fail('expected the call to fail');
}

describe('Slack stand-in', () => {
  let slack: SlackStandIn;
  let web: WebClient;

  before(async () => {
    slack = await startSlackStandIn({ usergroups: { S0SRE: ['U0STANDIN01', 'U0OTHER'] } });
    // Quick retries keep the test fast; the Retry-After wait itself still comes from the header.
    web = new WebClient(slack.botToken, { slackApiUrl: slack.apiUrl, logger: quiet, retryConfig: { retries: 3, minTimeout: 10, maxTimeout: 50 } });
  });

  after(async () => {
    await slack.close();
  });

  it('answers auth.test for the bot token and records the call without the token', async () => {
    const res = await web.auth.test();
    assert.equal(res.ok, true);
    assert.equal(res.user_id, slack.workspace.botUserId);
    const call = slack.calls('auth.test').at(-1);
    assert.equal(call?.tokenKind, 'bot');
    assert.equal(JSON.stringify(call).includes(slack.botToken), false);
  });

  it('refuses unknown, missing and wrong-kind tokens like Slack', async () => {
    const bad = new WebClient('xoxb-not-the-right-one', { slackApiUrl: slack.apiUrl, logLevel: LogLevel.ERROR });
    assert.equal((await platformError(bad.auth.test())).error, 'invalid_auth');
    const none = new WebClient(undefined, { slackApiUrl: slack.apiUrl, logLevel: LogLevel.ERROR });
    assert.equal((await platformError(none.auth.test())).error, 'not_authed');
    const app = new WebClient(slack.appToken, { slackApiUrl: slack.apiUrl, logLevel: LogLevel.ERROR });
    assert.equal((await platformError(app.chat.postMessage({ channel: 'C1', text: 'x' }))).error, 'not_allowed_token_type');
    assert.equal((await platformError(web.apps.connections.open({}))).error, 'not_allowed_token_type');
    assert.equal((await platformError(web.apiCall('nope.nothing'))).error, 'unknown_method');
  });

  it('rejects 51 blocks with invalid_blocks and stores nothing', async () => {
    const blocks = Array.from({ length: 51 }, (_, i) => section(`line ${i}`));
    const data = await platformError(web.chat.postMessage({ channel: 'CBLOCKS', text: 'too many', blocks }));
    assert.equal(data.error, 'invalid_blocks');
    const errors = (data as unknown as { errors: string[] }).errors;
    assert.ok(errors.some((e) => e.includes('no more than 50 items') && e.includes('/blocks')), errors.join('\n'));
    assert.equal(slack.messages('CBLOCKS').length, 0);
  });

  it('validates blocks as a pure function', () => {
    assert.deepEqual(validateBlocks([section('ok'), { type: 'divider' }]), []);
    const long = validateBlocks([section('x'.repeat(3001))]);
    assert.equal(long.length, 1);
    assert.match(long[0] ?? '', /3001 characters \[json-pointer:\/blocks\/0\/text\/text\]/);
    assert.match(validateBlocks([{ type: 'header', text: { type: 'mrkdwn', text: 'h' } }]).join(), /must be 'plain_text'/);
    assert.match(validateBlocks([{ type: 'section' }]).join(), /either 'text' or 'fields'/);
    assert.match(validateBlocks([{ type: 'sparkle' }]).join(), /unsupported block type/);
    const button = (id: string) => ({ type: 'button', action_id: id, text: { type: 'plain_text', text: 'Go' } });
    assert.match(validateBlocks([{ type: 'actions', elements: [button('a'), button('a')] }]).join(), /duplicate action_id 'a'/);
    const confirm = { title: { type: 'plain_text', text: 'Sure?' }, text: { type: 'plain_text', text: 'x'.repeat(301) }, confirm: { type: 'plain_text', text: 'Yes' }, deny: { type: 'plain_text', text: 'No' } };
    assert.match(validateBlocks([{ type: 'actions', elements: [{ ...button('b'), confirm }] }]).join(), /confirm\/text\/text/);
  });

  it('answers a second post to a channel within 1 s with 429 + Retry-After, and the WebClient gets through', async () => {
    let rateLimitedFor: number | undefined;
    web.once(WebClientEvent.RATE_LIMITED, (seconds: number) => {
      rateLimitedFor = seconds;
    });
    const first = await web.chat.postMessage({ channel: 'CRATE', text: 'first' });
    const second = await web.chat.postMessage({ channel: 'CRATE', text: 'second', thread_ts: first.ts });
    assert.equal(rateLimitedFor, 1);
    const limited = slack.rateLimited('chat.postMessage');
    assert.equal(limited.length, 1);
    assert.equal(limited[0]?.retryAfter, 1);
    assert.deepEqual(limited[0]?.response, { ok: false, error: 'ratelimited' });
    assert.equal(slack.messages('CRATE').length, 1);
    const replies = slack.threadReplies('CRATE', first.ts ?? '');
    assert.deepEqual(replies.map((m) => [m.text, m.ts]), [['second', second.ts]]);
    assert.ok((second.ts ?? '') > (first.ts ?? ''), 'ts must increase');
    assert.match(second.ts ?? '', /^\d{10}\.\d{6}$/);
    // Another channel has its own window.
    await web.chat.postMessage({ channel: 'COTHER', text: 'elsewhere' });
    assert.equal(slack.rateLimited('chat.postMessage').length, 1);
  });

  it('serves users.info with the zone offset and usergroups.users.list', async () => {
    const info = await web.users.info({ user: 'U0STANDIN01' });
    assert.equal(info.user?.tz, 'UTC');
    assert.equal(info.user?.tz_offset, 0);
    const group = await web.usergroups.users.list({ usergroup: 'S0SRE' });
    assert.deepEqual(group.users, ['U0STANDIN01', 'U0OTHER']);
    assert.equal((await platformError(web.usergroups.users.list({ usergroup: 'S0NONE' }))).error, 'no_such_subteam');
  });

  it('connects a real SocketModeClient, delivers a slash command, gets its ack and sees it reconnect', async () => {
    const client = new SocketModeClient({
      appToken: slack.appToken,
      logLevel: LogLevel.ERROR,
      // Reconnect delay is clientPingTimeout × failures: keep it short for the test.
      clientPingTimeout: 1000,
      clientOptions: { slackApiUrl: slack.apiUrl },
    });
    const seen: Array<Record<string, unknown>> = [];
    client.on('slash_commands', async ({ ack, body }: { ack: (r?: Record<string, unknown>) => Promise<void>; body: Record<string, unknown> }) => {
      seen.push(body);
      await ack({ text: `on it: ${String(body['text'])}` });
    });
    try {
      await client.start();
      await slack.waitForConnections(1);
      const ack = await slack.sendSlashCommandSocket({ command: '/backup', text: 'status', channel_id: 'CSOCK' });
      assert.deepEqual(ack.payload, { text: 'on it: status' });
      assert.equal(seen[0]?.['command'], '/backup');
      assert.equal(seen[0]?.['response_url'], ack.responseUrl);
      assert.equal(slack.responses(ack.responseUrlId)[0]?.via, 'ack');

      slack.disconnect();
      assert.equal(await slack.waitForConnections(2, 10_000), 2);
      const again = await slack.sendSlashCommandSocket({ text: 'after reconnect' });
      assert.deepEqual(again.payload, { text: 'on it: after reconnect' });
      assert.equal(slack.calls('apps.connections.open').filter((c) => c.response['ok'] === true).length, 2);
    } finally {
      await client.disconnect();
    }
  });

  it('rejects when a Socket Mode client does not ack within the timeout', async () => {
    const client = new SocketModeClient({ appToken: slack.appToken, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: slack.apiUrl } });
    client.on('slash_commands', () => {
      // never acks
    });
    try {
      await client.start();
      await assert.rejects(slack.sendSlashCommandSocket({ text: 'slow', timeoutMs: 200 }), /no ack for slash_commands/);
    } finally {
      await client.disconnect();
    }
  });

  describe('with a Bolt app over HTTP', () => {
    let app: App;
    let url: string;

    before(async () => {
      app = new App({
        token: slack.botToken,
        signingSecret: slack.signingSecret,
        clientOptions: { slackApiUrl: slack.apiUrl },
        logLevel: LogLevel.ERROR,
      });
      app.command('/backup', async ({ ack, respond, command }) => {
        await ack();
        for (let i = 0; i < 6; i += 1) {
          await respond({ text: `${command.text} #${i}`, response_type: i === 0 ? 'in_channel' : 'ephemeral' }).catch(() => undefined);
        }
      });
      app.action('run_confirm', async ({ ack, respond }) => {
        await ack();
        await respond({ replace_original: true, text: 'confirmed' });
      });
      const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
    });

    after(async () => {
      await app.stop();
    });

    it('signs slash commands so Bolt accepts them, and refuses a forged signature', async () => {
      const forged = await slack.sendSlashCommandHttp({ url, text: 'status', signingSecret: 'wrong-secret' });
      assert.equal(forged.status, 401);
      const stale = await slack.sendSlashCommandHttp({ url, text: 'status', timestamp: Math.floor(Date.now() / 1000) - 600 });
      assert.equal(stale.status, 401);

      const res = await slack.sendSlashCommandHttp({ url, text: 'status', channel_id: 'CHTTP' });
      assert.equal(res.status, 200);
      // Six respond() calls: five go through, the sixth is refused like Slack's used-up response_url.
      const responses = await slack.waitFor(() => (slack.responses(res.responseUrlId).length === 6 ? slack.responses(res.responseUrlId) : undefined));
      assert.deepEqual(responses.map((r) => r.status), [200, 200, 200, 200, 200, 404]);
      assert.equal(responses[5]?.errors.length, 0);
      assert.deepEqual(slack.messages('CHTTP').map((m) => m.text), ['status #0']);
      assert.equal(slack.ephemerals('CHTTP').length, 4);
    });

    it('delivers a button click on a stored message and applies replace_original', async () => {
      const blocks = [section('Run backup?'), { type: 'actions', block_id: 'confirm', elements: [{ type: 'button', action_id: 'run_confirm', value: 'ns/app', text: { type: 'plain_text', text: 'Run' } }] }];
      const posted = await web.chat.postMessage({ channel: 'CBUTTON', text: 'Run backup?', blocks });
      const message = slack.message('CBUTTON', posted.ts ?? '');
      assert.ok(message);
      const res = await slack.sendInteractionHttp({ url, blockAction: { action_id: 'run_confirm', message } });
      assert.equal(res.status, 200);
      assert.equal((res.sent['actions'] as Array<Record<string, unknown>>)[0]?.['value'], 'ns/app');
      await slack.waitFor(() => slack.message('CBUTTON', posted.ts ?? '')?.text === 'confirmed');
      assert.equal(message.edits.at(-1)?.via, 'response_url');
      assert.equal(message.blocks, undefined);
    });
  });
});
