import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseFileConfig } from '../../src/config.ts';

test('every configuration example in the README is accepted as written', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length >= 3);
  for (const block of blocks) {
    const config = parseFileConfig(parseYaml(block), 'README example');
    assert.ok(config.windows.length >= 1);
  }
});
