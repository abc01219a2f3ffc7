// The runner with stand-in programs for restic: `env` shows the environment restic would get,
// `echo` its argv, node itself a process that will not stop. No restic needed.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildResticEnvironment, ignoredSecretKeys } from '../../src/restic/environment.ts';
import { resticBinary } from '../../src/restic/binary.ts';
import { ResticError } from '../../src/restic/errors.ts';
import { runRestic, runResticChecked, type ResticTarget } from '../../src/restic/run.ts';

const target: ResticTarget = {
  repository: 's3:https://minio.example/bucket/plex',
  env: {
    RESTIC_REPOSITORY: 's3:https://ignored.example/other',
    RESTIC_PASSWORD: 'correct horse battery staple',
    AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEKEY',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG',
    RCLONE_CONFIG_REMOTE_TYPE: 's3',
    RESTIC_PASSWORD_COMMAND: 'curl http://evil.example/',
    SOMETHING_ELSE: 'x',
  },
  credentialsFrom: 'Secret media/plex-restic-secret',
};

function parseEnv(stdout: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
  }
  return env;
}

describe('runRestic environment', () => {
  const saved = { ...process.env };
  before(() => {
    process.env['SLACK_BOT_TOKEN'] = 'xoxb-must-not-leak';
    process.env['SLACK_APP_TOKEN'] = 'xapp-must-not-leak';
    process.env['HTTPS_PROXY'] = 'http://proxy.internal:3128';
  });
  after(() => {
    for (const key of ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'HTTPS_PROXY']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  it('passes only the mover’s Secret keys, a minimal PATH/HOME, a private cache and the proxy', async () => {
    const { code, stdout } = await runRestic(target, [], { bin: '/usr/bin/env' });
    assert.equal(code, 0);
    const env = parseEnv(stdout);
    assert.deepEqual(Object.keys(env).sort(), [
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'HOME',
      'HTTPS_PROXY',
      'PATH',
      'RCLONE_CONFIG_REMOTE_TYPE',
      'RESTIC_CACHE_DIR',
      'RESTIC_PASSWORD',
      'RESTIC_REPOSITORY',
    ]);
    assert.equal(env['RESTIC_REPOSITORY'], target.repository, 'the target’s repository wins');
    assert.ok(env['RESTIC_CACHE_DIR']?.startsWith(`${env['HOME']}/`));
    assert.ok(env['HOME']?.startsWith(tmpdir()));
    assert.ok(!stdout.includes('must-not-leak'));
  });

  it('removes its private directory afterwards', async () => {
    const { stdout } = await runRestic(target, [], { bin: '/usr/bin/env' });
    const home = parseEnv(stdout)['HOME'] ?? '';
    const name = home.slice(tmpdir().length + 1);
    assert.ok(name.startsWith('backup-bot-restic-'));
    assert.ok(!readdirSync(tmpdir()).includes(name));
  });

  it('writes GOOGLE_APPLICATION_CREDENTIALS content to a file and passes its path', async () => {
    const gcs = { ...target, env: { ...target.env, GOOGLE_APPLICATION_CREDENTIALS: '{"type":"service_account"}' } };
    const env = parseEnv((await runRestic(gcs, [], { bin: '/usr/bin/env' })).stdout);
    assert.match(env['GOOGLE_APPLICATION_CREDENTIALS'] ?? '', /\/gcs\.json$/);
  });

  it('puts --cacert first and never a credential on the command line', async () => {
    const { stdout } = await runRestic({ ...target, cacert: '/etc/ca/ca.crt' }, ['list', 'locks', '--no-lock'], { bin: '/bin/echo' });
    assert.equal(stdout.trim(), '--cacert /etc/ca/ca.crt list locks --no-lock');
  });

  it('names the ignored Secret keys', () => {
    assert.deepEqual(ignoredSecretKeys(target.env), ['RESTIC_PASSWORD_COMMAND', 'SOMETHING_ELSE']);
    const env = buildResticEnvironment(target.env, { repository: 'r', privateDir: '/p', parentEnv: {} });
    assert.equal(env['RESTIC_PASSWORD_COMMAND'], undefined);
  });
});

describe('runRestic failures', () => {
  it('refuses to start without RESTIC_PASSWORD, naming the Secret', async () => {
    await assert.rejects(runRestic({ ...target, env: {} }, ['snapshots'], { bin: '/bin/true' }), (e: unknown) => {
      assert.ok(e instanceof ResticError);
      assert.equal(e.kind, 'missing-credentials');
      assert.match(e.message, /RESTIC_PASSWORD is missing or empty in Secret media\/plex-restic-secret/);
      return true;
    });
  });

  it('says how to install restic when the binary is missing', async () => {
    await assert.rejects(runRestic(target, ['snapshots'], { bin: '/nonexistent/restic' }), (e: unknown) => {
      assert.ok(e instanceof ResticError);
      assert.equal(e.kind, 'not-installed');
      assert.match(e.message, /RESTIC_BIN/);
      return true;
    });
  });

  it('stops a run that exceeds its timeout, and says so', async () => {
    const started = Date.now();
    await assert.rejects(runRestic(target, ['30'], { bin: '/bin/sleep', timeoutMs: 200 }), (e: unknown) => {
      assert.ok(e instanceof ResticError);
      assert.equal(e.kind, 'timeout');
      assert.match(e.message, /did not finish within 0\.2 s and was stopped/);
      return true;
    });
    assert.ok(Date.now() - started < 5_000);
  });

  it('kills with SIGKILL what ignores SIGTERM', { timeout: 10_000 }, async () => {
    const stubborn = "process.on('SIGTERM', () => {}); process.stderr.write('ready\\n'); setInterval(() => {}, 1000);";
    const started = Date.now();
    await assert.rejects(runRestic(target, ['-e', stubborn], { bin: process.execPath, timeoutMs: 1_000, killGraceMs: 300 }), /was stopped/);
    assert.ok(Date.now() - started < 5_000);
  });

  it('stops on abort', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(runRestic(target, ['30'], { bin: '/bin/sleep', signal: controller.signal }), (e: unknown) => {
      assert.ok(e instanceof ResticError);
      assert.equal(e.kind, 'aborted');
      return true;
    });
  });

  it('returns a non-zero exit with redacted stderr; the checked variant throws the typed error', async () => {
    const script = `process.stderr.write('Fatal: wrong password or no key found for ' + process.env.RESTIC_PASSWORD + '\\n'); process.exit(12);`;
    const result = await runRestic(target, ['-e', script], { bin: process.execPath });
    assert.equal(result.code, 12);
    assert.equal(result.stderr, 'Fatal: wrong password or no key found for [redacted RESTIC_PASSWORD]\n');
    await assert.rejects(runResticChecked(target, ['-e', script], { bin: process.execPath }), (e: unknown) => {
      assert.ok(e instanceof ResticError);
      assert.equal(e.kind, 'wrong-password');
      assert.ok(!JSON.stringify({ m: e.message, s: e.stderr }).includes('correct horse'));
      return true;
    });
  });

  it('gives up early on a backend restic keeps retrying', async () => {
    const retrying =
      "setInterval(() => process.stderr.write('Stat(<config/>) returned error, retrying after 1s: Head \"http://h/config\": dial tcp 127.0.0.1:1: connect: connection refused\\n'), 20);";
    const started = Date.now();
    await assert.rejects(runRestic(target, ['-e', retrying], { bin: process.execPath, timeoutMs: 10_000 }), (e: unknown) => {
      assert.ok(e instanceof ResticError);
      assert.equal(e.kind, 'backend-unreachable');
      assert.match(e.message, /connection refused/);
      return true;
    });
    assert.ok(Date.now() - started < 5_000);
  });
});

describe('which restic runs', () => {
  // A restic installed where the child's minimal PATH does not look (go install, Homebrew, Nix).
  const dir = mkdtempSync(join(tmpdir(), 'backup-bot-go-bin-'));
  const fake = join(dir, 'restic');
  writeFileSync(fake, '#!/bin/sh\necho "fake restic from go/bin: $*"\n');
  chmodSync(fake, 0o755);
  const saved = { PATH: process.env['PATH'], RESTIC_BIN: process.env['RESTIC_BIN'] };
  before(() => {
    process.env['PATH'] = `${dir}:${saved.PATH ?? ''}`;
    delete process.env['RESTIC_BIN'];
  });
  after(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds restic in a PATH directory and names it by its absolute path', () => {
    assert.equal(resticBinary({ PATH: `/nonexistent-dir:${dir}:/usr/bin`, HOME: '/nonexistent-home' }), fake);
    assert.equal(resticBinary({ RESTIC_BIN: '/opt/restic/bin/restic', PATH: dir }), '/opt/restic/bin/restic', 'RESTIC_BIN wins');
  });

  it('runs the restic it found on PATH, although the child gets a minimal PATH without that directory', async () => {
    const { code, stdout, stderr } = await runRestic(target, ['version'], {});
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), 'fake restic from go/bin: version');
  });
});
