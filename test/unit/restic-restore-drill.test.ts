// The restore drill's pure parts: what `restic ls --json` lists, which files the sample takes,
// include patterns that match only their own path, the report as the thread reads it, and the
// start-up sweep of directories a crashed drill left behind (only its own, never another bot's).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { literalPattern, parseLsFiles, sampleFiles } from '../../src/restic/restore-drill.ts';
import type { DrillReport } from '../../src/restic/restore-drill.ts';
import { drillDirPrefix, sweepDrillDirs } from '../../src/restic/drill-dirs.ts';
import { verifyReply } from '../../commands/backup/verify.ts';

const files = (n: number, size = 10) => Array.from({ length: n }, (_, i) => ({ path: `/data/d${i % 7}/f${String(i).padStart(4, '0')}`, size }));

describe('the restore drill, pure', () => {
  test('restic ls --json: the regular files, nothing else', () => {
    const out = [
      JSON.stringify({ struct_type: 'snapshot', id: 'x', paths: ['/data'] }),
      JSON.stringify({ struct_type: 'node', type: 'dir', path: '/data' }),
      JSON.stringify({ struct_type: 'node', type: 'file', path: '/data/a', size: 6 }),
      JSON.stringify({ struct_type: 'node', type: 'symlink', path: '/data/l' }),
      JSON.stringify({ struct_type: 'node', type: 'file', path: '/data/empty' }),
      'not json',
    ].join('\n');
    assert.deepEqual(parseLsFiles(out), [{ path: '/data/a', size: 6 }, { path: '/data/empty', size: 0 }]);
  });

  test('the sample: bounded by files and bytes, spread over the tree, the same every time', () => {
    const all = files(1000);
    const s = sampleFiles(all, 200, 1_000_000);
    assert.equal(s.length, 200);
    assert.deepEqual(new Set(s.map((f) => f.path.split('/')[2])).size, 7, 'every directory is in the sample');
    assert.deepEqual(sampleFiles([...all].reverse(), 200, 1_000_000), s, 'deterministic, whatever the listing order');
    assert.equal(sampleFiles(all, 200, 95).length, 9, 'the byte budget: 9 files of 10 bytes');
    assert.deepEqual(sampleFiles([{ path: '/big', size: 10_000 }, { path: '/small', size: 5 }], 10, 100), [{ path: '/small', size: 5 }], 'a file over the budget is left out');
    assert.deepEqual(sampleFiles([], 200, 100), []);
  });

  test('an include pattern matches only its own path', () => {
    assert.equal(literalPattern('/data/we*ird [x]/f?.txt'), '/data/we\\*ird \\[x\\]/f\\?.txt');
    assert.equal(literalPattern('/data/back\\slash'), '/data/back\\\\slash');
  });

  test('the report: the verdict first, then what was checked', () => {
    const snapshot = { id: 'a'.repeat(64), shortId: 'aaaaaaaa', time: new Date('2026-12-01T10:00:00Z'), hostname: 'h', paths: ['/data'], tags: [] };
    const ok: DrillReport = { snapshot, check: { ok: true, line: '`restic check --read-data-subset=5%` found no errors' }, listed: 1000, sampled: files(200), verified: { files: 200, bytes: 2000 }, problems: [] };
    const good = verifyReply('media/plex', ok, 42_000);
    assert.equal(good.text, 'media/plex is restorable: 200 files, 2000 bytes verified, check passed.');
    assert.match(JSON.stringify(good.blocks), /is restorable: 200 files, 2\.0 KB restored and verified from snapshot `aaaaaaaa` \(2026-12-01 10:00 UTC\); check passed/);
    const bad = verifyReply('media/plex', { ...ok, check: { ok: false, line: '`restic check` failed: pack 1a2b not found' }, problems: ['`restic check` failed: pack 1a2b not found', '3 of 200 sampled files were not restored: `/data/x`.'] }, 5000);
    assert.equal(bad.tone, 'error');
    assert.match(bad.text, /^Verifying media\/plex failed: restic check failed: pack 1a2b not found$/);
    assert.match(JSON.stringify(bad.blocks), /3 of 200 sampled files were not restored/);
  });
});

describe('directories a crashed drill left behind', () => {
  test('removed when their process is gone or is this one; another live bot\'s are kept', async () => {
    const root = await mkdtemp(join(tmpdir(), 'bb-sweep-'));
    try {
      // A process that has exited: its PID is free (and not reused within this test).
      const child = spawn(process.execPath, ['-e', '0']);
      const dead = await new Promise<number>((resolve) => child.once('exit', () => resolve(child.pid!)));
      const other = process.ppid; // alive for as long as this test runs
      for (const name of [`${drillDirPrefix(dead)}abc`, `${drillDirPrefix(process.pid)}def`, `${drillDirPrefix(other)}ghi`, 'unrelated-dir']) await mkdir(join(root, name, 'restored'), { recursive: true });
      assert.equal(await sweepDrillDirs(root), 2);
      assert.deepEqual((await readdir(root)).sort(), [`${drillDirPrefix(other)}ghi`, 'unrelated-dir']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
