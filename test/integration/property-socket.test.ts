// Property test for the Socket Mode side: the real bot process takes hundreds of arbitrary
// envelopes (known types with payloads of any shape, unknown types, near-valid slash commands and
// button clicks) and stays up; each known-type envelope is acked, and a real command is still
// answered afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { startSlackStandIn } from '../harness/slack/slack-stand-in.ts';
import type { SlackStandIn } from '../harness/slack/slack-stand-in.ts';
import { startBotProcess } from '../harness/bot-process.ts';
import type { BotProcess } from '../harness/bot-process.ts';
import { stopAll } from '../harness/stop-all.ts';

const SECRETS = {
  botToken: 'xoxb-4400000001-4400000002-propertysocketbot',
  appToken: 'xapp-1-A0PROPERTY-4400000003-propertysocketapp0000',
  signingSecret: 'property-socket-signing-secret-77d1',
};

const anyValue = fc.jsonValue({ maxDepth: 3 });
const text = fc.oneof(fc.string({ maxLength: 120 }), fc.constantFrom('help', 'status', 'locks media plex', 'unlock media plex --remove-all', 'run x y', '<!channel>'));
const slashPayload = fc.record({
  command: fc.oneof(fc.constantFrom('/backup', '/restic', '/other'), fc.string({ maxLength: 12 })),
  text: fc.oneof(text, anyValue),
  user_id: fc.oneof(fc.constant('U0PROP0001'), fc.string({ maxLength: 12 }), anyValue),
  channel_id: fc.oneof(fc.constant('C0PROP0001'), fc.string({ maxLength: 12 }), anyValue),
  response_url: fc.oneof(fc.constant('not a url'), fc.string({ maxLength: 30 })),
}, { requiredKeys: [] });
const interactive = fc.record({
  type: fc.oneof(fc.constantFrom('block_actions', 'view_submission', 'shortcut', 'nonsense'), anyValue),
  user: fc.oneof(fc.record({ id: fc.string({ maxLength: 12 }) }), anyValue),
  actions: fc.oneof(fc.array(fc.record({ type: fc.constantFrom('button', 'static_select'), action_id: fc.oneof(fc.constantFrom('bb:run', 'bb:remove-all', 'bb:silence', 'bb:unknown#3'), fc.string({ maxLength: 20 })), value: fc.oneof(fc.string({ maxLength: 200 }), anyValue) }, { requiredKeys: [] }), { maxLength: 2 }), anyValue),
  channel: fc.oneof(fc.record({ id: fc.string({ maxLength: 12 }) }), anyValue),
  message: fc.oneof(fc.record({ ts: fc.string({ maxLength: 20 }) }), anyValue),
}, { requiredKeys: [] });
// Slack's contract: an events_api payload always carries an `event` object (what is inside it is
// anyone's). Without one, @slack/socket-mode itself throws before any app code runs, so such
// envelopes are sent too, but only the bot's survival is required of them, not an ack.
const event = fc.record({ type: fc.oneof(fc.constantFrom('message', 'app_mention', 'reaction_added'), fc.string({ maxLength: 12 })), text: fc.oneof(text, anyValue), channel: fc.string({ maxLength: 12 }), user: fc.string({ maxLength: 12 }), ts: fc.string({ maxLength: 20 }), bot_id: fc.string({ maxLength: 8 }) }, { requiredKeys: ['type'] });
const events = fc.record({ type: fc.oneof(fc.constant('event_callback'), anyValue), event, team_id: fc.string({ maxLength: 12 }) }, { requiredKeys: ['event'] });
type Envelope = { type: string; payload: Record<string, unknown>; mustAck: boolean };
const envelope: fc.Arbitrary<Envelope> = fc.oneof(
  slashPayload.map((payload) => ({ type: 'slash_commands', payload, mustAck: true })),
  interactive.map((payload) => ({ type: 'interactive', payload, mustAck: true })),
  events.map((payload) => ({ type: 'events_api', payload, mustAck: true })),
  fc.dictionary(fc.string({ maxLength: 10 }), anyValue, { maxKeys: 4 }).map((payload) => ({ type: 'events_api', payload, mustAck: false })),
  fc.tuple(fc.string({ maxLength: 16 }), fc.dictionary(fc.string({ maxLength: 10 }), anyValue, { maxKeys: 4 })).map(([type, payload]) => ({ type, payload, mustAck: false })),
);

describe('Socket Mode under arbitrary envelopes', () => {
  let slack: SlackStandIn;
  let bot: BotProcess;
  before(async () => {
    slack = await startSlackStandIn({ ...SECRETS, postMessagePerSecondPerChannel: Infinity });
    bot = await startBotProcess({ SLACK_BOT_TOKEN: SECRETS.botToken, SLACK_APP_TOKEN: SECRETS.appToken, SLACK_API_URL: slack.apiUrl, LOG_LEVEL: 'info' }, { timeoutMs: 60_000 });
    await slack.waitForConnections(1, 30_000);
  });
  after(() => stopAll(bot, slack));

  test('every known-type envelope is acked, the bot never exits, and it still answers a command', async () => {
    let sent = 0;
    let acked = 0;
    await fc.assert(
      fc.asyncProperty(envelope, async ({ type, payload, mustAck }) => {
        sent++;
        try {
          await slack.sendRawEnvelopeSocket(type, payload, { timeoutMs: mustAck ? 5000 : 300, acceptsResponsePayload: type === 'slash_commands' });
          acked++;
        } catch (err) {
          if (mustAck) throw err;
        }
        assert.equal(bot.child.exitCode, null, `the bot exited after a ${type} envelope:\n${bot.output().slice(-2000)}`);
      }),
      {
        numRuns: 250,
        // A click Slack never sends without a response_url: once made the bot throw in its own code.
        examples: [[{ type: 'interactive', payload: { type: 'block_actions', user: { id: 'U0PROP0001' }, actions: [{ type: 'button', action_id: 'bb:run', value: 'x' }], channel: { id: 'C0PROP0001' }, message: { ts: '1700000000.000100' } }, mustAck: true }]],
      },
    );
    const help = await slack.sendSlashCommandSocket({ command: '/backup', text: 'help' });
    const [res] = await slack.waitFor(() => { const r = slack.responses(help.responseUrlId); return r.length ? r : undefined; }, 15_000, 'the answer to /backup help');
    assert.match(JSON.stringify(res!.body), /\/backup status/);
    assert.equal(bot.child.exitCode, null);
    // Bolt and the Socket Mode SDK log what they cannot parse; what matters is that no error was
    // thrown by the bot's own code (the first frame of its stack in src/ or commands/).
    const ours = bot.lines.filter((l) => {
      if (!l.startsWith('{')) return false;
      const entry = JSON.parse(l) as { level?: number; err?: { stack?: string; original?: { stack?: string } } };
      const stack = entry.err?.original?.stack ?? entry.err?.stack ?? '';
      const first = stack.split('\n').find((f) => f.trimStart().startsWith('at '));
      return (entry.level ?? 0) >= 50 && first !== undefined && /\/(src|commands)\//.test(first) && !first.includes('node_modules');
    });
    assert.deepEqual(ours, [], 'an error was thrown by the bot\'s own code');
    console.log(`property: ${sent} arbitrary Socket Mode envelopes, ${acked} acked, bot alive, a command answered afterwards`);
  });
});
