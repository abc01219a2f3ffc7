// Real restic 0.18 on real repositories: locks left by killed processes on this host and on a
// "mover pod" host, their verdicts, and what plain and --remove-all unlock do with them.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResticError, ResticLockedError } from '../../src/restic/errors.ts';
import { isProcessAlive } from '../../src/restic/host-facts.ts';
import { listLocks, readLocks } from '../../src/restic/locks.ts';
import { runRestic, runResticChecked, type ResticTarget } from '../../src/restic/run.ts';
import { unlock } from '../../src/restic/unlock.ts';
import { verdictFor, type HostFacts, type PodPhase } from '../../src/restic/verdict.ts';
import {
  holdLock,
  initWithSnapshot,
  killAllHolders,
  makeLocalRepository,
  resticBinary,
  skipUnlessBuilt,
  startRestServer,
  type RunningRestServer,
} from '../harness/restic.ts';

const MOVER_HOST = 'volsync-src-plex-abcde';
const skip = skipUnlessBuilt('restic');
const bin = resticBinary() ?? 'restic';

function facts(moverPhase: PodPhase): HostFacts {
  return {
    thisHost: hostname(),
    isProcessAlive,
    podPhase: (host) => (host === MOVER_HOST ? moverPhase : 'not-a-pod'),
  };
}

describe('restic locks against a real repository', { skip, timeout: 60_000 }, () => {
  let repo: Awaited<ReturnType<typeof makeLocalRepository>>;
  let target: ResticTarget;
  let sameHostLockId = '';
  let moverLockId = '';

  before(async () => {
    repo = await makeLocalRepository();
    target = repo.target;
    // Two restic processes that die without removing their (shared, backup) locks.
    const local = await holdLock(target);
    const mover = await holdLock(target, { hostname: MOVER_HOST });
    sameHostLockId = local.lock.id;
    moverLockId = mover.lock.id;
    await local.kill9();
    await mover.kill9();
  });

  after(async () => {
    await killAllHolders();
    await repo?.cleanup();
  });

  it('reads both locks with their hosts and PIDs', async () => {
    const locks = await listLocks(target, { bin });
    assert.deepEqual(locks.map((l) => l.id).sort(), [sameHostLockId, moverLockId].sort());
    const local = locks.find((l) => l.id === sameHostLockId);
    const mover = locks.find((l) => l.id === moverLockId);
    assert.equal(local?.hostname, hostname());
    assert.equal(mover?.hostname, MOVER_HOST);
    assert.equal(local?.exclusive, false);
    assert.equal(local?.username, 'root');
    assert.ok(local && local.pid > 0 && !isProcessAlive(local.pid), 'the same-host holder is dead');
    assert.ok(local && Date.now() - local.time.getTime() < 5 * 60_000, 'a fresh lock');
  });

  it('judges the dead same-host lock stale, the mover lock orphaned or live by the pod facts', async () => {
    const locks = await listLocks(target, { bin });
    const now = new Date();
    const local = locks.find((l) => l.id === sameHostLockId);
    const mover = locks.find((l) => l.id === moverLockId);
    assert.ok(local && mover);

    const localVerdict = verdictFor(local, now, facts('absent'));
    assert.equal(localVerdict.verdict, 'stale');
    assert.equal(localVerdict.removableBy, 'unlock');
    assert.match(localVerdict.reason, /no longer running/);

    // A seconds-old lock whose mover pod is not here: not provably dead (a mover elsewhere may hold it).
    const absent = verdictFor(mover, now, facts('absent'));
    assert.equal(absent.verdict, 'unknown');
    assert.equal(absent.removableBy, 'unlock --remove-all');
    assert.equal(absent.resticCallsItStale, false);
    assert.match(absent.reason, /\d+s old\. That does not prove it dead/);
    assert.match(absent.blocks.summary, /backups keep succeeding while retention silently stops/);

    // The same lock 11 minutes on, never refreshed: orphaned.
    const gone = verdictFor(mover, new Date(mover.time.getTime() + 11 * 60_000), facts('absent'));
    assert.equal(gone.verdict, 'orphaned');
    assert.equal(gone.removableBy, 'unlock --remove-all');
    assert.equal(gone.resticCallsItStale, false);
    assert.match(gone.reason, /11m old: a running restic rewrites its lock every 5 minutes, so this one was not refreshed/);
    assert.match(gone.blocks.summary, /backups keep succeeding while retention silently stops/);

    const finished = verdictFor(mover, now, facts('Failed'));
    assert.equal(finished.verdict, 'orphaned');

    const running = verdictFor(mover, now, facts('Running'));
    assert.equal(running.verdict, 'live');
    assert.equal(running.removableBy, 'none');
  });

  it('a shared lock blocks the exclusive check: exit 11 names the holder', async () => {
    await assert.rejects(runResticChecked(target, ['check'], { bin }), (error: unknown) => {
      assert.ok(error instanceof ResticLockedError, String(error));
      assert.equal(error.exitCode, 11);
      assert.ok(error.holder, 'holder parsed from restic output');
      assert.ok([hostname(), MOVER_HOST].includes(error.holder.hostname));
      assert.equal(error.holder.exclusive, false);
      assert.match(error.message, /locked .*PID \d+ on /);
      assert.ok(!error.message.includes(target.env['RESTIC_PASSWORD'] ?? '\u0000'));
      return true;
    });
  });

  it('plain unlock removes only the stale same-host lock and says why the mover lock stays', async () => {
    const report = await unlock(target, { bin, facts: facts('Failed') });
    assert.equal(report.command, 'restic unlock');
    assert.deepEqual(report.removed.map((l) => l.id), [sameHostLockId]);
    assert.deepEqual(report.remaining.map((r) => r.lock.id), [moverLockId]);
    const kept = report.remaining[0];
    assert.equal(kept?.verdict.verdict, 'orphaned');
    assert.match(kept?.keptBecause ?? '', /does not call this one stale/);
    assert.match(kept?.keptBecause ?? '', new RegExp(`another host \\(${MOVER_HOST}\\)`));
    assert.deepEqual((await listLocks(target, { bin })).map((l) => l.id), [moverLockId]);
  });

  it('unlock --remove-all removes the rest, and the repository works afterwards', async () => {
    const report = await unlock(target, { bin, removeAll: true, facts: facts('absent') });
    assert.equal(report.command, 'restic unlock --remove-all');
    assert.deepEqual(report.removed.map((l) => l.id), [moverLockId]);
    assert.deepEqual(report.remaining, []);
    assert.deepEqual(await listLocks(target, { bin }), []);

    const snapshots = await runResticChecked(target, ['snapshots', '--json'], { bin });
    const parsed = JSON.parse(snapshots.stdout) as Array<{ hostname: string }>;
    assert.ok(parsed.some((s) => s.hostname === 'test-source'), 'the snapshot made at init is there');
    await runResticChecked(target, ['check'], { bin, timeoutMs: 30_000 });
  });

  it('leaves out a lock that vanished between list and cat, but fails on one that is unreadable', async () => {
    const vanished = 'f'.repeat(64);
    assert.deepEqual(await readLocks(target, [vanished], { bin }), []);

    const corrupt = 'e'.repeat(64);
    const file = join(target.repository, 'locks', corrupt);
    await writeFile(file, 'not an encrypted lock');
    try {
      await assert.rejects(listLocks(target, { bin }), (error: unknown) => {
        assert.ok(error instanceof ResticError, String(error));
        assert.match(error.message, /restic cat lock eeeeeeee/);
        return true;
      });
    } finally {
      await rm(file, { force: true });
    }
  });

  it('a lock refreshed between list and cat (old ID gone, new ID listed) is read under its new ID', async () => {
    // As restic refreshes a live lock: the ID listed first is gone, the lock now has another one.
    const live = await holdLock(target);
    try {
      const read = await readLocks(target, ['d'.repeat(64)], { bin });
      assert.deepEqual(read.map((l) => l.id), [live.lock.id]);
    } finally {
      await live.kill9();
      await runResticChecked(target, ['unlock', '--remove-all'], { bin });
    }
  });

  it('a wrong password is exit 12, and the password appears nowhere', async () => {
    const password = 'Wr0ng-pässword/with+specials';
    const wrong: ResticTarget = { ...target, env: { ...target.env, RESTIC_PASSWORD: password } };
    const result = await runRestic(wrong, ['snapshots'], { bin });
    assert.equal(result.code, 12);
    await assert.rejects(runResticChecked(wrong, ['snapshots'], { bin }), (error: unknown) => {
      assert.ok(error instanceof ResticError);
      assert.equal(error.kind, 'wrong-password');
      assert.match(error.message, /RESTIC_PASSWORD in Secret test\/restic-secret/);
      for (const text of [error.message, error.stderr, String(error.stack)]) {
        assert.ok(!text.includes(password), 'no password in the error');
      }
      return true;
    });
  });

  it('a repository that does not exist is exit 10, without its location in the message', async () => {
    const missing: ResticTarget = { ...target, repository: `${repo.dir}/no-such-repo` };
    await assert.rejects(runResticChecked(missing, ['list', 'locks', '--no-lock'], { bin }), (error: unknown) => {
      assert.ok(error instanceof ResticError);
      assert.equal(error.exitCode, 10);
      assert.equal(error.kind, 'repository-not-found');
      assert.match(error.message, /check RESTIC_REPOSITORY/);
      assert.ok(!error.stderr.includes('no-such-repo'), 'the repository path is redacted from stderr');
      assert.match(error.stderr, /\[redacted RESTIC_REPOSITORY\]/);
      return true;
    });
  });
});

describe('restic locks on a REST-server repository', { skip: skip || skipUnlessBuilt('rest-server'), timeout: 60_000 }, () => {
  const auth = { username: 'volsync', password: 'rest-S3cret-pw' };
  let server: RunningRestServer;
  let target: ResticTarget;
  let clientDir = '';

  before(async () => {
    server = await startRestServer({ auth });
    clientDir = await mkdtemp(join(tmpdir(), 'backup-bot-restic-client-'));
    target = {
      repository: `rest:${server.url}/plex`,
      env: { RESTIC_PASSWORD: 'repo-pw-123', RESTIC_REST_USERNAME: auth.username, RESTIC_REST_PASSWORD: auth.password },
      credentialsFrom: 'Secret media/plex-restic-secret',
    };
    await initWithSnapshot(target, clientDir);
  });

  after(async () => {
    await killAllHolders();
    await server?.stop();
    if (clientDir) await rm(clientDir, { recursive: true, force: true });
  });

  it('lists an orphaned mover lock through the REST backend and removes it with --remove-all', async () => {
    const mover = await holdLock(target, { hostname: MOVER_HOST });
    await mover.kill9();
    const [lock, ...rest] = await listLocks(target, { bin });
    assert.equal(rest.length, 0);
    assert.equal(lock?.hostname, MOVER_HOST);
    assert.equal(lock && verdictFor(lock, new Date(), facts('Succeeded')).verdict, 'orphaned');

    const plain = await unlock(target, { bin, facts: facts('Succeeded') });
    assert.deepEqual(plain.removed, []);
    assert.equal(plain.remaining.length, 1);
    const all = await unlock(target, { bin, removeAll: true, facts: facts('Succeeded') });
    assert.equal(all.removed.length, 1);
    assert.deepEqual(await listLocks(target, { bin }), []);
  });

  it('rejected REST credentials are reported as such, without the password', async () => {
    const bad: ResticTarget = { ...target, env: { ...target.env, RESTIC_REST_PASSWORD: 'not-the-rest-pw' } };
    await assert.rejects(runResticChecked(bad, ['list', 'locks', '--no-lock'], { bin, timeoutMs: 30_000 }), (error: unknown) => {
      assert.ok(error instanceof ResticError, String(error));
      assert.equal(error.kind, 'backend-auth', error.message);
      assert.ok(!`${error.message}\n${error.stderr}`.includes('not-the-rest-pw'));
      return true;
    });
  });

  it('an unreachable backend is reported within seconds, not after restic’s 15 minutes of retries', async () => {
    const closed: ResticTarget = { ...target, repository: 'rest:http://127.0.0.1:1/plex' };
    const started = Date.now();
    await assert.rejects(runResticChecked(closed, ['list', 'locks', '--no-lock'], { bin, timeoutMs: 30_000, killGraceMs: 1_000 }), (error: unknown) => {
      assert.ok(error instanceof ResticError, String(error));
      assert.equal(error.kind, 'backend-unreachable', error.message);
      assert.match(error.message, /connection refused/);
      return true;
    });
    assert.ok(Date.now() - started < 25_000, 'gave up before the timeout');
  });
});
