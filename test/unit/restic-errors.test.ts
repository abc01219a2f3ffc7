import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstMeaningfulLine, ResticLockedError, resticErrorFor } from '../../src/restic/errors.ts';
import { parseGoDuration } from '../../src/restic/go-duration.ts';
import { describeHolder, formatAge, parseLockHolder } from '../../src/restic/lock-holder.ts';

// Verbatim from the stale-lock runbook (restic in a VolSync mover).
const RUNBOOK = `repo already locked, waiting up to 0s for the lock
unable to create lock in backend: repository is already locked by PID 32 on volsync-src-plex-nzlv6 by root (UID 0, GID 0)
lock was created at 2025-12-13 10:24:46 (189h37m14.500688624s ago)
the \`unlock\` command can be used to remove stale locks
`;

const CTX = { command: 'restic forget', credentialsFrom: 'Secret media/plex-restic-secret' };

describe('parseLockHolder', () => {
  it('reads who holds the lock from the runbook’s restic output', () => {
    assert.deepEqual(parseLockHolder(RUNBOOK), {
      exclusive: false,
      pid: 32,
      hostname: 'volsync-src-plex-nzlv6',
      username: 'root',
      uid: 0,
      gid: 0,
      createdAt: '2025-12-13 10:24:46',
      ageMs: ((189 * 60 + 37) * 60 + 14.500688624) * 1000,
    });
  });

  it('reads an exclusive lock and restic 0.18’s storage ID line', () => {
    const text = `unable to create lock in backend: repository is already locked exclusively by PID 7 on nas by backup (UID 1000, GID 100)
lock was created at 2026-01-02 03:04:05 (4m0.5s ago)
storage ID 8052b3c3
the \`unlock\` command can be used to remove stale locks`;
    const holder = parseLockHolder(text);
    assert.equal(holder?.exclusive, true);
    assert.equal(holder?.username, 'backup');
    assert.equal(holder?.uid, 1000);
    assert.equal(holder?.storageId, '8052b3c3');
    assert.equal(holder?.ageMs, 240_500);
  });

  it('returns undefined for other text', () => {
    assert.equal(parseLockHolder('Fatal: wrong password or no key found'), undefined);
  });

  it('describes the holder in one line', () => {
    const holder = parseLockHolder(RUNBOOK);
    assert.ok(holder);
    assert.equal(describeHolder(holder), 'a shared lock held by PID 32 on volsync-src-plex-nzlv6 by root, created 2025-12-13 10:24:46 (7d 21h ago)');
  });
});

describe('parseGoDuration / formatAge', () => {
  it('parses Go duration strings', () => {
    assert.equal(parseGoDuration('3.153399217s'), 3153.399217);
    assert.equal(parseGoDuration('1h2m3s'), 3_723_000);
    assert.equal(parseGoDuration('812ms'), 812);
    assert.equal(parseGoDuration('1.5µs'), 0.0015);
    assert.equal(parseGoDuration('0s'), 0);
    assert.equal(parseGoDuration('-2m'), -120_000);
    assert.equal(parseGoDuration('yesterday'), undefined);
  });

  it('formats ages short', () => {
    assert.equal(formatAge(45_000), '45s');
    assert.equal(formatAge(12 * 60_000), '12m');
    assert.equal(formatAge((3 * 60 + 5) * 60_000), '3h 5m');
    assert.equal(formatAge((189 * 60 + 37) * 60_000), '7d 21h');
  });
});

describe('resticErrorFor', () => {
  it('is undefined for success', () => {
    assert.equal(resticErrorFor({ code: 0, stderr: '' }, CTX), undefined);
  });

  it('exit 10: no repository, check RESTIC_REPOSITORY in the Secret', () => {
    const e = resticErrorFor(
      { code: 10, stderr: 'Fatal: repository does not exist: unable to open config file: stat [redacted RESTIC_REPOSITORY]/config: no such file or directory' },
      CTX,
    );
    assert.equal(e?.kind, 'repository-not-found');
    assert.match(e?.message ?? '', /check RESTIC_REPOSITORY in Secret media\/plex-restic-secret/);
  });

  it('exit 11: locked, with the holder', () => {
    const e = resticErrorFor({ code: 11, stderr: RUNBOOK }, CTX);
    assert.ok(e instanceof ResticLockedError);
    assert.equal(e.holder?.hostname, 'volsync-src-plex-nzlv6');
    assert.match(e.message, /PID 32 on volsync-src-plex-nzlv6/);
    assert.match(e.message, /\/restic locks/);
  });

  it('exit 11 without the usual text still says it is locked', () => {
    const e = resticErrorFor({ code: 11, stderr: 'something new' }, CTX);
    assert.ok(e instanceof ResticLockedError);
    assert.equal(e.holder, undefined);
  });

  it('exit 12: wrong password, check RESTIC_PASSWORD', () => {
    const e = resticErrorFor({ code: 12, stderr: 'Fatal: wrong password or no key found\n' }, CTX);
    assert.equal(e?.kind, 'wrong-password');
    assert.match(e?.message ?? '', /RESTIC_PASSWORD in Secret media\/plex-restic-secret/);
  });

  it('exit 1 with a network error: backend unreachable', () => {
    const e = resticErrorFor(
      { code: 1, stderr: 'Fatal: unable to open config file: Stat: Head "https://s3.example/bucket/config": dial tcp: lookup s3.example: no such host\n' },
      CTX,
    );
    assert.equal(e?.kind, 'backend-unreachable');
    assert.match(e?.message ?? '', /no such host/);
  });

  it('exit 1 with a certificate error: points at customCA', () => {
    const e = resticErrorFor({ code: 1, stderr: 'Fatal: ... x509: certificate signed by unknown authority' }, CTX);
    assert.equal(e?.kind, 'backend-tls');
    assert.match(e?.message ?? '', /customCA/);
  });

  it('exit 1 with a 403 from S3: credentials rejected', () => {
    const e = resticErrorFor({ code: 1, stderr: 'Fatal: unable to open config file: Stat: Access Denied.' }, CTX);
    assert.equal(e?.kind, 'backend-auth');
    assert.match(e?.message ?? '', /AWS_\*/);
  });

  it('other failures: the first meaningful line', () => {
    const e = resticErrorFor({ code: 1, stderr: 'repo already locked, waiting up to 0s for the lock\n\nFatal: invalid id "zz": encoding/hex: invalid byte\n' }, CTX);
    assert.equal(e?.kind, 'failed');
    assert.equal(e?.message, '`restic forget` failed (exit 1): invalid id "zz": encoding/hex: invalid byte');
  });

  it('firstMeaningfulLine skips restic’s retry chatter', () => {
    assert.equal(firstMeaningfulLine('Load(<lock/0000000000>, 0, 0) returned error, retrying after 1s: x\nsomething broke\n'), 'something broke');
    assert.equal(firstMeaningfulLine(''), '');
  });
});
