/**
 * The real bot process, driven through the Slack stand-in exactly as Slack drives it: signed slash
 * commands over HTTP, envelopes over Socket Mode, and the terminal mode through a pipe.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSlackStandIn, validateBlocks } from '../harness/slack/slack-stand-in.ts';
import type { SlackStandIn } from '../harness/slack/slack-stand-in.ts';
import { runTerminalProcess, startBotProcess, startHttpBot } from '../harness/bot-process.ts';
import type { BotProcess } from '../harness/bot-process.ts';
import { stopAll } from '../harness/stop-all.ts';

const SECRETS = {
  botToken: 'xoxb-test-transport-bot-token',
  appToken: 'xapp-1-A0TRANSPORT-3000000001-transporttestapptoken0000',
  signingSecret: 'transport-test-signing-secret-5f3c',
};

function assertNoSecrets(output: string) {
  for (const [name, value] of Object.entries(SECRETS)) assert.ok(!output.includes(value), `${name} leaked into the log`);
}

describe('HTTP mode', () => {
  let slack: SlackStandIn;
  let bot: BotProcess;
  before(async () => {
    slack = await startSlackStandIn(SECRETS);
    bot = await startHttpBot(slack);
  });
  after(() => stopAll(bot, slack));

  test('health and readiness answer on the same listener', async () => {
    assert.equal((await fetch(`${bot.url}/healthz`)).status, 200);
    const ready = await fetch(`${bot.url}/readyz`);
    assert.equal(ready.status, 200, await ready.clone().text());
    assert.deepEqual(((await ready.json()) as { checks: string[] }).checks, ['slack']);
    const metrics = await (await fetch(`${bot.url}/metrics`)).text();
    assert.match(metrics, /backup_bot_commands_total/);
  });

  test('a signed /backup help is acked within 3 s and answered through response_url, ephemeral, valid Block Kit', async () => {
    const sent = await slack.sendSlashCommandHttp({ command: '/backup', text: 'help' });
    assert.equal(sent.status, 200);
    assert.ok(sent.ackMs < 3000);
    const [res] = await slack.waitFor(() => { const r = slack.responses(sent.responseUrlId).filter((x) => x.via === 'response_url'); return r.length ? r : undefined; });
    assert.equal(res!.status, 200);
    assert.deepEqual(res!.errors, []);
    assert.equal(res!.body.response_type, 'ephemeral');
    assert.deepEqual(validateBlocks(res!.body.blocks), []);
    const text = JSON.stringify(res!.body.blocks);
    for (const verb of ['status', 'run', 'doctor', 'window']) assert.match(text, new RegExp(`/backup ${verb}`));
  });

  test('/restic help lists locks, unlock and --remove-all', async () => {
    const sent = await slack.sendSlashCommandHttp({ command: '/restic', text: 'help' });
    const [res] = await slack.waitFor(() => { const r = slack.responses(sent.responseUrlId).filter((x) => x.via === 'response_url'); return r.length ? r : undefined; });
    const text = JSON.stringify(res!.body.blocks);
    assert.match(text, /\/restic locks/);
    assert.match(text, /\/restic unlock/);
    assert.match(text, /--remove-all/);
  });

  for (const [name, override] of [
    ['a forged signature', { signingSecret: 'not-the-secret' }],
    ['a timestamp 10 minutes old', { timestamp: Math.floor(Date.now() / 1000) - 600 }],
    ['a timestamp 10 minutes in the future', { timestamp: Math.floor(Date.now() / 1000) + 600 }],
    ['a garbage signature', { signature: 'v0=00' }],
  ] as const) {
    test(`${name} is answered 401 and never reaches a handler`, async () => {
      const before = slack.responses().length;
      const sent = await slack.sendSlashCommandHttp({ command: '/backup', text: 'help', ...override });
      assert.equal(sent.status, 401);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(slack.responses(sent.responseUrlId).length, 0);
      assert.equal(slack.responses().length, before);
      await bot.waitForLine(/rejected an unverified request/);
    });
  }

  test('an unknown verb and a bad argument get the usage, ephemeral, and the process stays up', async () => {
    const unknown = await slack.sendSlashCommandHttp({ command: '/backup', text: 'frobnicate' });
    const bad = await slack.sendSlashCommandHttp({ command: '/restic', text: 'locks Bad_NS plex' });
    const [u] = await slack.waitFor(() => { const r = slack.responses(unknown.responseUrlId).filter((x) => x.via === 'response_url'); return r.length ? r : undefined; });
    const [b] = await slack.waitFor(() => { const r = slack.responses(bad.responseUrlId).filter((x) => x.via === 'response_url'); return r.length ? r : undefined; });
    assert.match(JSON.stringify(u!.body), /Unknown command `\/backup frobnicate`/);
    assert.match(JSON.stringify(b!.body), /`Bad_NS` is not a valid namespace.*Usage: `\/restic locks <namespace> <app>`/);
    assert.equal(b!.body.response_type, 'ephemeral');
    assert.equal((await fetch(`${bot.url}/healthz`)).status, 200);
    assert.equal(bot.child.exitCode, null);
  });

  test('a mutating command from a non-operator is refused before its handler runs', async () => {
    const sent = await slack.sendSlashCommandHttp({ command: '/restic', text: 'unlock media plex --remove-all' });
    const [res] = await slack.waitFor(() => { const r = slack.responses(sent.responseUrlId).filter((x) => x.via === 'response_url'); return r.length ? r : undefined; });
    assert.match(JSON.stringify(res!.body), /No operators are configured/);
    await bot.waitForLine(/"audit":true.*"outcome":"denied"/);
  });

  test('url_verification is answered with the challenge', async () => {
    const sent = await slack.sendEventHttp({ challenge: 'challenge-abc' });
    assert.equal(sent.status, 200);
    assert.deepEqual(sent.json, { challenge: 'challenge-abc' });
  });

  test('no token value appears in any log line', () => {
    assert.ok(bot.lines.length > 5);
    assertNoSecrets(bot.output());
  });
});

describe('Socket Mode', () => {
  let slack: SlackStandIn;
  let bot: BotProcess;
  before(async () => {
    slack = await startSlackStandIn(SECRETS);
    bot = await startBotProcess({ SLACK_BOT_TOKEN: SECRETS.botToken, SLACK_APP_TOKEN: SECRETS.appToken, SLACK_API_URL: slack.apiUrl });
    await slack.waitForConnections(1, 15_000);
  });
  after(() => stopAll(bot, slack));

  test('apps.connections.open went to SLACK_API_URL with the app token', () => {
    const calls = slack.calls('apps.connections.open');
    assert.ok(calls.length >= 1);
    assert.equal(calls[0]!.tokenKind, 'app');
  });

  test('a slash command envelope is acked at once and answered through response_url', async () => {
    const sent = await slack.sendSlashCommandSocket({ command: '/restic', text: 'help' });
    assert.ok(sent.ackMs < 3000);
    const [res] = await slack.waitFor(() => { const r = slack.responses(sent.responseUrlId).filter((x) => x.via === 'response_url'); return r.length ? r : undefined; });
    assert.match(JSON.stringify(res!.body.blocks), /--remove-all/);
    const ready = await fetch(`${bot.url}/readyz`);
    assert.equal(ready.status, 200);
  });

  test('after a disconnect the bot reconnects and keeps answering', async () => {
    const before = slack.calls('apps.connections.open').length;
    slack.disconnect();
    await slack.waitForConnections(2, 20_000);
    assert.ok(slack.calls('apps.connections.open').length > before);
    const sent = await slack.sendSlashCommandSocket({ command: '/backup', text: 'nonsense' });
    const [res] = await slack.waitFor(() => { const r = slack.responses(sent.responseUrlId).filter((x) => x.via === 'response_url'); return r.length ? r : undefined; });
    assert.match(JSON.stringify(res!.body), /Unknown command/);
  });

  test('no token value appears in any log line', () => {
    assertNoSecrets(bot.output());
  });

  test('at LOG_LEVEL=debug no response_url (a bearer capability) appears in the log, though the SDK logs every envelope', async () => {
    const sent = await slack.sendSlashCommandSocket({ command: '/backup', text: 'help' });
    await slack.waitFor(() => slack.responses(sent.responseUrlId).find((r) => r.via === 'response_url'));
    const urls = slack.envelopes().map((e) => (e as { payload?: { response_url?: unknown } }).payload?.response_url).filter((u): u is string => typeof u === 'string');
    assert.ok(urls.includes(sent.responseUrl), 'the stand-in recorded the envelopes it sent');
    const output = bot.output();
    assert.match(output, /"level":20/, 'the bot logged at debug level');
    assert.match(output, /response_url/, 'the SDK logged the envelopes (with the value scrubbed)');
    for (const url of urls) {
      const id = url.slice(url.lastIndexOf('/') + 1);
      assert.ok(!output.includes(id), `response_url ${url} leaked into the log`);
    }
    assert.ok(!output.includes(`${slack.origin}/response/`), 'no hooks URL in the log');
  });
});

describe('terminal mode through a pipe', () => {
  test('prints both helps as plain text and exits 0 at end of input', async () => {
    const { code, stdout } = await runTerminalProcess('/backup help\n/restic help\n');
    assert.equal(code, 0);
    assert.match(stdout, /\/backup status \[namespace\] \[name\]/);
    assert.match(stdout, /\/restic unlock <namespace> <app> \[--remove-all\]/);
    assert.doesNotMatch(stdout, /[*`]/, 'mrkdwn markers are stripped in text');
  });

  test('bad input gets one line and the next command still runs', async () => {
    const { code, stdout } = await runTerminalProcess('hello\n/backup frobnicate\n/restic locks UPPER x\n/restic help\n');
    assert.equal(code, 0);
    assert.match(stdout, /Commands start with \/backup or \/restic/);
    assert.match(stdout, /Unknown command \/backup frobnicate/);
    assert.match(stdout, /UPPER is not a valid namespace/);
    assert.match(stdout, /\/restic locks <namespace> <app>/);
  });

  test('with no KUBECONFIG and no ~/.kube/config it says no cluster is configured and how to get one, at start and for a cluster command', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const home = mkdtempSync(join(tmpdir(), 'bb-home-'));
    // Without a kubeconfig the client library falls back to http://localhost:8080; that is not a cluster.
    const { code, stdout, stderr } = await runTerminalProcess('/backup status\n/restic locks media plex\n', { HOME: home, KUBECONFIG: null });
    assert.equal(code, 0);
    assert.match(stderr, /no Kubernetes cluster is configured.*KUBECONFIG.*npm run demo/i, 'said at start');
    const replies = stdout.split('\n').filter((l) => /No Kubernetes cluster is configured/.test(l));
    assert.equal(replies.length, 2, stdout);
    for (const line of replies) assert.match(line, /set KUBECONFIG.*npm run demo for the local sample cluster/);
    assert.doesNotMatch(stdout + stderr, /localhost:8080|HTTP protocol is not allowed|Cannot list ReplicationSources/);
  });

  test('an invalid configuration stops start-up with a message naming the field', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'bb-')), 'bad.yaml');
    writeFileSync(file, 'windows:\n  - name: pbs\n    start: "25:00"\n    end: "03:30"\n');
    const { code, stderr, stdout } = await runTerminalProcess('/backup help\n', { BACKUP_BOT_CONFIG: file });
    assert.equal(code, 2);
    assert.match(stderr, /windows\[0\]\.start: expected a 24-hour time/);
    assert.equal(stdout, '');
  });
});
