import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, usageLine } from '../../src/command/registry.ts';
import { checkName, isDnsLabel, isDnsSubdomain } from '../../src/command/names.ts';
import { backupCommands } from '../../commands/backup/index.ts';
import { resticCommands } from '../../commands/restic/index.ts';

const backup = backupCommands();
const restic = resticCommands();

test('help is generated from the declarations and lists every verb with one line each', () => {
  const r = parse(backup, 'help');
  assert.equal(r.ok, false);
  if (r.ok) return;
  for (const verb of ['status', 'run', 'doctor', 'window']) assert.match(r.reply.text, new RegExp(`/backup ${verb}`));
  const rh = parse(restic, '');
  assert.equal(rh.ok, false);
  if (rh.ok) return;
  assert.match(rh.reply.text, /\/restic locks <namespace> <app>/);
  assert.match(rh.reply.text, /\/restic unlock <namespace> <app> \[--remove-all\]/);
  assert.match(rh.reply.text, /`--remove-all`: remove every lock/);
});

test('usage lines mark optional arguments and flags', () => {
  const status = backup.verbs.find((v) => v.verb === 'status')!;
  assert.equal(usageLine(backup, status), '/backup status [namespace] [name]');
  const unlock = restic.verbs.find((v) => v.verb === 'unlock')!;
  assert.equal(usageLine(restic, unlock), '/restic unlock <namespace> <app> [--remove-all]');
});

test('arguments and flags are parsed', () => {
  const r = parse(restic, '  unlock   media   plex --remove-all ');
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.equal(r.parsed.verb, 'unlock');
  assert.deepEqual(r.parsed.args, { namespace: 'media', app: 'plex' });
  assert.ok(r.parsed.flags.has('remove-all'));
});

test('optional arguments may be left out', () => {
  const r = parse(backup, 'status');
  assert.ok(r.ok);
  if (r.ok) assert.deepEqual(r.parsed.args, {});
});

test('unknown verbs answer with the usage, marked as an error', () => {
  const r = parse(backup, 'frobnicate now');
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.reply.tone, 'error');
  assert.match(r.reply.text, /Unknown command `\/backup frobnicate`/);
  assert.match(r.reply.text, /\/backup status/);
  assert.equal(r.reply.visibility, 'ephemeral');
});

test('bad arguments are rejected before any handler with a line that says what a valid one looks like', () => {
  for (const [text, expected] of [
    ['locks Media plex', /`Media` is not a valid namespace/],
    ['locks media plex;rm', /`plex;rm` is not a valid app/],
    ['locks ../etc plex', /not a valid namespace/],
    ['locks media', /Missing <app>/],
    ['locks media plex extra', /Too many arguments/],
    ['unlock media plex --force', /Unknown flag `--force`/],
    ['locks -n plex', /Unknown flag|not a valid namespace/],
  ] as const) {
    const r = parse(restic, text);
    assert.equal(r.ok, false, text);
    if (r.ok) continue;
    assert.match(r.reply.text, expected, text);
    assert.match(r.reply.text, /Usage: `\/restic/, text);
  }
});

test('a namespace longer than 63 characters is not a label; a dotted name is a subdomain', () => {
  assert.equal(isDnsLabel('a'.repeat(63)), true);
  assert.equal(isDnsLabel('a'.repeat(64)), false);
  assert.equal(isDnsLabel('data.v1'), false);
  assert.equal(isDnsSubdomain('data.v1'), true);
  assert.equal(isDnsSubdomain('-data'), false);
  assert.equal(isDnsSubdomain(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`), true);
  assert.equal(isDnsSubdomain('a'.repeat(254)), false);
  assert.match(checkName('namespace', 'x'.repeat(200), 'namespace')!, /\.\.\.` is not a valid namespace/);
});
