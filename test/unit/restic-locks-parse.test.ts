import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLock, parseLockIds } from '../../src/restic/locks.ts';

const ID = '8052b3c377c3afbc6c4441e283bfbd7d791ed367e7c2eef9a3cdf29e76f9b849';

describe('parseLock', () => {
  it('reads `restic cat lock` JSON (root: uid/gid omitted), with nanosecond time', () => {
    const lock = parseLock(ID, '{\n  "time": "2026-11-22T07:12:58.897207118Z",\n  "exclusive": false,\n  "hostname": "vm",\n  "username": "root",\n  "pid": 14087\n}\n');
    assert.deepEqual(lock, {
      id: ID,
      shortId: '8052b3c3',
      time: new Date('2026-11-22T07:12:58.897Z'),
      exclusive: false,
      hostname: 'vm',
      username: 'root',
      pid: 14087,
      uid: 0,
      gid: 0,
    });
  });

  it('reads a time with a zone offset and a non-root user', () => {
    const lock = parseLock(ID, JSON.stringify({ time: '2025-12-13T10:24:46.5+01:00', exclusive: true, hostname: 'h', username: 'u', pid: 1, uid: 1000, gid: 100 }));
    assert.equal(lock.time.toISOString(), '2025-12-13T09:24:46.500Z');
    assert.equal(lock.exclusive, true);
    assert.equal(lock.uid, 1000);
  });

  it('refuses what is not a lock, saying which', () => {
    assert.throws(() => parseLock(ID, 'not json'), /lock 8052b3c3 is not JSON/);
    assert.throws(() => parseLock(ID, '{"time":"x","exclusive":false,"hostname":"h","pid":1}'), /unreadable time/);
    assert.throws(() => parseLock(ID, '{"exclusive":false}'), /not a restic lock/);
  });
});

describe('parseLockIds', () => {
  it('keeps 64-hex IDs and drops anything else', () => {
    assert.deepEqual(parseLockIds(`${ID}\n\nwarning: something\n${ID.replace('8', 'a')}\r\n`), [ID, ID.replace('8', 'a')]);
  });
});
