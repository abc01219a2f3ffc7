import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseFileConfig } from '../../src/config.ts';

test('every configuration example in the README is accepted as written', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length >= 3);
  let alertmanager = 0;
  for (const block of blocks) {
    const doc = parseYaml(block) as Record<string, unknown>;
    // Alertmanager's own configuration (a top-level route), not the bot's: it must send to the bot's webhook with the token.
    if ('route' in doc) {
      alertmanager++;
      const am = doc as { route: { routes?: Array<{ receiver: string }> }; receivers: Array<{ name: string; webhook_configs?: Array<{ url: string; http_config?: { authorization?: { type?: string } } }> }> };
      const bot = am.receivers.find((r) => r.webhook_configs?.some((w) => /\/alertmanager$/.test(w.url) && w.http_config?.authorization?.type === 'Bearer'));
      assert.ok(bot, 'a receiver posts to /alertmanager with a bearer token');
      assert.ok(am.route.routes?.some((r) => r.receiver === bot.name), 'and a route sends alerts to it');
      continue;
    }
    const config = parseFileConfig(doc, 'README example');
    assert.ok(config.windows.length >= 1);
  }
  assert.ok(blocks.length - alertmanager >= 3);
});
