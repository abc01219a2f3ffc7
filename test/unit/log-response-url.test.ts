// A response_url lets whoever holds it post as the bot, so no log line may carry one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { createLogger, scrubResponseUrls } from '../../src/log.ts';
import { slackLogger } from '../../src/slack/bolt-logger.ts';

const URL = 'https://hooks.slack.com/commands/T0001/1234567890/AbCdEfGhIjKlMnOp';
const ID = 'AbCdEfGhIjKlMnOp';

describe('scrubResponseUrls', () => {
  const forms: Record<string, string> = {
    'JSON': JSON.stringify({ response_url: URL, text: 'help' }),
    'JSON with escaped slashes, as Slack sends it': `{"response_url":"${URL.replaceAll('/', '\\/')}","text":"help"}`,
    'JSON inside a JSON string (a pino msg)': JSON.stringify({ msg: `Received a message on the WebSocket: ${JSON.stringify({ payload: { response_url: URL } })}` }),
    'form-encoded': new URLSearchParams({ command: '/backup', response_url: URL, text: 'help' }).toString(),
    'util.inspect': `{ response_url: '${URL}', text: 'help' }`,
    'a local stand-in URL after the key': JSON.stringify({ response_url: `http://127.0.0.1:4000/response/${ID}` }),
    'a hooks URL without the key': `posting to ${URL} now`,
  };
  for (const [name, text] of Object.entries(forms)) {
    it(`removes the URL from ${name}, keeping the rest`, () => {
      const out = scrubResponseUrls(text);
      assert.ok(!out.includes(ID), out);
      assert.match(out, /\[REDACTED\]/);
      if (text.includes('help')) assert.match(out, /help/);
    });
  }

  it('keeps JSON valid', () => {
    const line = JSON.stringify({ msg: `envelope ${JSON.stringify({ response_url: URL.replaceAll('/', '\\/'), n: 1 })}`, response_url: URL });
    const out = scrubResponseUrls(line);
    const parsed = JSON.parse(out) as { msg: string; response_url: string };
    assert.equal(parsed.response_url, '[REDACTED]');
    assert.ok(!out.includes(ID));
  });

  it('leaves text without a response_url alone', () => {
    const text = '{"type":"slash_commands","payload":{"command":"/backup","text":"status"}}';
    assert.equal(scrubResponseUrls(text), text);
  });
});

describe('the Slack SDK logger at debug level', () => {
  it('writes the envelope but not its response_url', () => {
    let out = '';
    const destination = new Writable({ write(chunk, _enc, cb) { out += String(chunk); cb(); } });
    const log = createLogger({ level: 'debug', destination, env: {} });
    const sdk = slackLogger(log);
    sdk.debug(`Received a message on the WebSocket: {"envelope_id":"e1","payload":{"response_url":"${URL.replaceAll('/', '\\/')}","command":"/backup"}}`);
    sdk.debug('body', { response_url: URL, trigger_id: 't' });
    assert.match(out, /Received a message on the WebSocket/);
    assert.match(out, /\/backup/);
    assert.ok(!out.includes(ID), out);
    for (const line of out.trim().split('\n')) JSON.parse(line);
  });
});
