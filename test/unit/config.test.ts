import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseEnv, parseFileConfig } from '../../src/config.ts';
import { windowSettings } from '../../src/backup-window/window-settings.ts';
import { isWindowTransient } from '../../src/backup-window/facts.ts';
import { windowMatchers } from '../../src/backup-window/window-silence.ts';

test('an invalid window names the bad field, what is expected and what was given', () => {
  const pbs = { name: 'pbs', zone: 'UTC', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '02:00', end: '03:30', graceMinutes: 15 };
  const rejects = (w: Record<string, unknown>, message: RegExp) => {
    assert.throws(() => parseFileConfig({ windows: [w] }, 'bot.yaml'), (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      assert.match(err.message, message);
      return true;
    });
  };
  rejects({ ...pbs, zone: 'Mars/Olympus' }, /\n  windows\[0\]\.zone: expected an IANA time zone.*; got "Mars\/Olympus"$/m);
  rejects({ ...pbs, start: '2:00' }, /\n  windows\[0\]\.start: expected a 24-hour time "HH:MM".*; got "2:00"$/m);
  rejects({ ...pbs, end: '24:00' }, /windows\[0\]\.end: expected a 24-hour time "HH:MM".*; got "24:00"$/m);
  rejects({ ...pbs, start: 120 }, /windows\[0\]\.start: expected a 24-hour time "HH:MM" \(quoted in YAML\).*; got 120$/m);
  rejects({ ...pbs, days: [] }, /windows\[0\]\.days: expected at least one of mon, tue/);
  rejects({ ...pbs, days: ['monday'] }, /windows\[0\]\.days\[0\]: expected one of the lowercase three-letter names.*; got "monday"$/m);
  rejects({ ...pbs, graceMinutes: -1 }, /windows\[0\]\.graceMinutes: expected a whole number of minutes from 0 to 720; got -1$/m);
  rejects({ ...pbs, graceMinutes: 1.5 }, /windows\[0\]\.graceMinutes: .*; got 1\.5$/m);
  rejects({ ...pbs, name: '' }, /windows\[0\]\.name: expected a short lowercase name.*; got ""$/m);
  rejects({ ...pbs, name: 'a@b' }, /windows\[0\]\.name: expected a short lowercase name.*; got "a@b"$/m);
  assert.doesNotThrow(() => parseFileConfig({ windows: [pbs] }, 'bot.yaml'));
});

test('defaults include the pbs window, daily 02:00-03:30 UTC, annotate, with the control-plane pods', () => {
  const c = parseFileConfig({}, 'test');
  assert.equal(c.windows.length, 1);
  const w = c.windows[0]!;
  assert.deepEqual([w.name, w.zone, w.start, w.end, w.mode, w.days.length], ['pbs', 'UTC', '02:00', '03:30', 'annotate', 7]);
  assert.deepEqual(w.transientPods, ['kube-scheduler-.*', 'kube-controller-manager-.*', 'kube-apiserver-.*', 'etcd-.*']);
  assert.equal(c.backups.pvcLabel, 'backup=hourly');
  assert.equal(c.restic.confirmTimeoutMinutes, 10);
});

test('the contract example from PRODUCT.md is accepted as written', () => {
  const c = parseFileConfig({
    slack: { channels: ['C0123OPS'], operators: { users: ['U0123ALICE'], groups: ['S0123SRE'] } },
    alerts: { channel: 'C0123ALERTS', routes: [{ match: { namespace: 'media' }, channel: 'C0123MEDIA' }], watchChannels: ['C0123ALERTS'], escalate: 'S0123ONCALL' },
    windows: [{ name: 'pbs', zone: 'UTC', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '02:00', end: '03:30', mode: 'annotate', transientPods: ['kube-scheduler-.*'], graceMinutes: 15 }],
    backups: { pvcLabel: 'backup=hourly' },
    restic: { confirmTimeoutMinutes: 10 },
  }, 'test');
  assert.deepEqual(c.slack.operators.groups, ['S0123SRE']);
  assert.equal(c.alerts.routes[0]?.channel, 'C0123MEDIA');
});

test('an invalid file names the field and the expected value', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ windows: [{ name: 'pbs', start: '2am', end: '03:30' }] }, /windows\[0\]\.start: expected a 24-hour time "HH:MM"/],
    [{ windows: [{ name: 'pbs', zone: 'Mars/Olympus', start: '02:00', end: '03:30' }] }, /windows\[0\]\.zone: expected an IANA time zone/],
    [{ windows: [{ name: 'pbs', start: '02:00', end: '03:30', mode: 'snooze' }] }, /windows\[0\]\.mode:/],
    [{ windows: [{ name: 'pbs', start: '02:00', end: '03:30', transientPods: ['etcd-(' ] }] }, /windows\[0\]\.transientPods\[0\]: expected a valid regular expression/],
    [{ slack: { operators: { users: ['alice'] } } }, /slack\.operators\.users\[0\]: expected a Slack user ID/],
    [{ slack: { chanels: [] } }, /slack: unknown key\(s\) "chanels"/],
    [{ restic: { confirmTimeoutMinutes: 0 } }, /restic\.confirmTimeoutMinutes/],
    [{ backups: { pvcLabel: 'backup' } }, /backups\.pvcLabel: expected a label selector "key=value"/],
  ];
  for (const [raw, expected] of cases) {
    assert.throws(() => parseFileConfig(raw, 'bot.yaml'), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /Invalid configuration in bot\.yaml/);
      assert.match(err.message, expected);
      return true;
    });
  }
});

test('loadConfig reads BACKUP_BOT_CONFIG and reports YAML syntax errors with the file name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bb-config-'));
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'windows:\n  - name: nightly\n    zone: Pacific/Auckland\n    start: "22:00"\n    end: "01:00"\n    mode: mute\n');
  const c = loadConfig({ BACKUP_BOT_CONFIG: good }, dir);
  assert.equal(c.windows[0]?.zone, 'Pacific/Auckland');
  assert.equal(c.windows[0]?.graceMinutes, 15);
  assert.equal(c.env.mode, 'terminal');
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'windows: [\n');
  assert.throws(() => loadConfig({ BACKUP_BOT_CONFIG: bad }, dir), /Invalid YAML in .*bad\.yaml/);
  assert.throws(() => loadConfig({ BACKUP_BOT_CONFIG: join(dir, 'missing.yaml') }, dir), /BACKUP_BOT_CONFIG: cannot read/);
  // Without the variable and without ./backup-bot.yaml, the built-in defaults apply.
  assert.equal(loadConfig({}, dir).source, 'built-in defaults');
});

test('the mode follows the tokens present, and required secrets are named when missing', () => {
  assert.equal(parseEnv({}).mode, 'terminal');
  assert.equal(parseEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }).mode, 'socket');
  assert.equal(parseEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' }).mode, 'http');
  assert.equal(parseEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', SLACK_MODE: 'terminal' }).mode, 'terminal');
  assert.throws(() => parseEnv({ SLACK_APP_TOKEN: 'xapp-1' }), /SLACK_BOT_TOKEN: required in socket mode/);
  assert.throws(() => parseEnv({ SLACK_MODE: 'http', SLACK_BOT_TOKEN: 'xoxb-1' }), /SLACK_SIGNING_SECRET: required in http mode/);
  assert.throws(() => parseEnv({ SLACK_MODE: 'carrier-pigeon' }), /SLACK_MODE: expected "socket", "http" or "terminal"/);
  assert.throws(() => parseEnv({ PORT: 'eighty' }), /PORT: expected a port number/);
  assert.throws(() => parseEnv({ SLACK_BOT_TOKEN: 'xoxp-1', SLACK_APP_TOKEN: 'xapp-1' }), /SLACK_BOT_TOKEN: expected a bot token starting with xoxb-/);
  assert.equal(parseEnv({ SLACK_API_URL: 'http://127.0.0.1:9/api' }).slackApiUrl, 'http://127.0.0.1:9/api/');
});

test('the built-in transient patterns cover kube-system only: an application\'s etcd-0 is not a known transient', () => {
  const [w] = windowSettings(parseFileConfig({}, 'test').windows);
  assert.deepEqual(w!.namespaces, ['kube-system']);
  assert.equal(isWindowTransient(w!, 'etcd-0', 'apps'), false);
  assert.equal(isWindowTransient(w!, 'etcd-0', undefined), false);
  assert.equal(isWindowTransient(w!, 'etcd-0', 'kube-system'), true);
  assert.equal(isWindowTransient(w!, 'kube-scheduler-talos-monitor', 'kube-system'), true);
  // A window that names its own patterns and no namespaces gets the same default.
  const [custom] = windowSettings(parseFileConfig({ windows: [{ name: 'pbs', start: '02:00', end: '03:30', transientPods: ['etcd-.*'] }] }, 'test').windows);
  assert.equal(isWindowTransient(custom!, 'etcd-0', 'apps'), false);
  assert.equal(isWindowTransient(custom!, 'etcd-0', 'kube-system'), true);
});

test('a mute window\'s silence always carries the namespaces it is for', () => {
  const [byDefault] = windowSettings(parseFileConfig({ windows: [{ name: 'pbs', start: '02:00', end: '03:30', mode: 'mute' }] }, 'test').windows);
  assert.deepEqual(windowMatchers(byDefault!).find((m) => m.name === 'namespace'), { name: 'namespace', value: 'kube-system', isRegex: true, isEqual: true });
  const [several] = windowSettings(parseFileConfig({ windows: [{ name: 'pbs', start: '02:00', end: '03:30', mode: 'mute', namespaces: ['kube-system', 'monitoring'] }] }, 'test').windows);
  assert.deepEqual(windowMatchers(several!).find((m) => m.name === 'namespace'), { name: 'namespace', value: 'kube-system|monitoring', isRegex: true, isEqual: true });
});

test('an empty namespaces list is refused: it would make every namespace\'s crash loops "transient"', () => {
  assert.throws(() => parseFileConfig({ windows: [{ name: 'pbs', start: '02:00', end: '03:30', namespaces: [] }] }, 'test'), (err: Error) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /windows\[0\]\.namespaces: .*kube-system/);
    return true;
  });
  assert.throws(() => parseFileConfig({ windows: [{ name: 'pbs', start: '02:00', end: '03:30', namespaces: ['Not A Namespace'] }] }, 'test'), /windows\[0\]\.namespaces\[0\]: expected a Kubernetes namespace name/);
});
