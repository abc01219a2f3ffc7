/**
 * restic hanging past its timeout, against a real API server: a stand-in `restic` (RESTIC_BIN) that
 * ignores SIGTERM and never answers, so only the runner's SIGKILL of its process group stops it.
 * The reply says it timed out and what to do next, no process is left behind, and for
 * `--remove-all` (where the hang comes after the pause) the source is resumed and the Lease released.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REMOVE_ALL_ACTION } from '../../commands/restic/actions.ts';
import { leaseName } from '../../commands/restic/repository-lease.ts';
import type { Kube } from '../../src/kube/client.ts';
import { kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { killAllHolders, resticBinary, skipUnlessBuilt } from '../harness/restic.ts';
import { kubeWithNamespaces } from '../harness/kube-objects.ts';
import { stopAll } from '../harness/stop-all.ts';
import { getSource, orphanedLock, ResticScratch, resticTestCommands, slackUser, testBot, uniq } from './restic-cmd-fixtures.ts';

const skip = skipUnlessBuilt('restic') || (await kubeUnavailableReason()) || false;
const realRestic = resticBinary();
const ALICE = slackUser('U0ALICE001', 'alice');
const TIMEOUT_S = 5;

const dir = mkdtempSync(join(tmpdir(), 'bb-restic-hang-'));
const pidFile = join(dir, 'pids');
/** A restic that hangs (ignoring SIGTERM, with a child) when its arguments match `hangOn`, else the real one. */
function hangingRestic(name: string, hangOn: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh
case " $* " in
  *'${hangOn}'*)
    trap '' TERM
    echo $$ >> '${pidFile}'
    sleep 600 &
    echo $! >> '${pidFile}'
    while :; do wait; done ;;
esac
exec '${realRestic ?? 'restic'}' "$@"
`);
  chmodSync(file, 0o755);
  return file;
}

/** Running (a zombie waiting for a reaper that is not us counts as gone: it runs nothing). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}
const pids = (): number[] => {
  try {
    return readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

describe('restic hanging past its timeout', { skip, timeout: 300_000 }, () => {
  let harness: KubeHarness;
  let kube: Kube;
  const ns = uniq('rhang');
  let scratch: ResticScratch;
  const saved = process.env['RESTIC_BIN'];
  const { commands } = resticTestCommands();

  before(async () => {
    ({ harness, kube } = await kubeWithNamespaces(ns));
    scratch = new ResticScratch(kube, ns);
  }, { timeout: 180_000 });

  after(async () => {
    if (saved === undefined) delete process.env['RESTIC_BIN'];
    else process.env['RESTIC_BIN'] = saved;
    for (const pid of pids()) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await stopAll(killAllHolders, scratch, harness);
  });

  async function source(name: string) {
    if (realRestic) process.env['RESTIC_BIN'] = realRestic;
    return scratch.sourceWithRepository(name);
  }

  function bot() {
    const b = testBot({ kube, botNamespace: ns, operators: [ALICE.id], commands });
    b.services.config.restic.timeoutSeconds = TIMEOUT_S;
    return b;
  }

  test('/restic unlock: killed at the timeout, the reply says so with the next step, nothing left running', async () => {
    const name = 'hang1';
    await source(name);
    process.env['RESTIC_BIN'] = hangingRestic('restic-hang-all', '');
    const before = pids().length;
    const b = bot();
    const t0 = Date.now();
    const out = b.text(await b.run(`/restic unlock ${ns} ${name}`, ALICE));
    const tookMs = Date.now() - t0;
    const mine = pids().slice(before);
    await new Promise((r) => setTimeout(r, 300));
    const left = mine.filter(alive).length;
    console.log(`fault: restic hanging past its ${TIMEOUT_S} s timeout (/restic unlock): answered in ${(tookMs / 1000).toFixed(1)} s, processes left = ${left} of ${mine.length}, lost = ${/did not finish within/.test(out) ? 0 : 1}`);
    assert.ok(mine.length >= 2, 'the hanging restic ran');
    assert.equal(left, 0, 'the hung restic and its child are gone');
    assert.match(out, /did not finish within/);
    assert.match(out, /retry/);
    assert.doesNotMatch(out, /\n\s+at |Error:/, 'no stack trace');
    assert.ok(tookMs < (TIMEOUT_S + 15) * 1000, `answered in ${tookMs} ms`);
  });

  test('--remove-all with restic hanging after the pause: killed, source resumed, Lease released', async () => {
    const name = 'hang2';
    const repo = await source(name);
    await orphanedLock(kube, ns, name, repo.target, `volsync-src-${name}-gone1`);
    process.env['RESTIC_BIN'] = hangingRestic('restic-hang-unlock', 'unlock --remove-all');
    const b = bot();
    const r = await b.run(`/restic unlock ${ns} ${name} --remove-all`, ALICE);
    assert.ok(r.confirmation, b.text(r));
    const before = pids().length;
    const out = b.text(await b.click(REMOVE_ALL_ACTION, r.confirmation.token, ALICE));
    const mine = pids().slice(before);
    await new Promise((r) => setTimeout(r, 300));
    const left = mine.filter(alive).length;
    const paused = (await getSource(kube, ns, name)).spec.paused === true;
    let leaseHeld = false;
    try {
      const l = await kube.coordination.readNamespacedLease({ name: leaseName(name), namespace: ns });
      leaseHeld = Boolean(l.spec?.holderIdentity);
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
    console.log(`fault: restic hanging past its ${TIMEOUT_S} s timeout (--remove-all): processes left = ${left}, source paused after = ${paused ? 1 : 0}, lease left held = ${leaseHeld ? 1 : 0}, lost = ${paused || leaseHeld ? 1 : 0}`);
    assert.ok(mine.length >= 2, `the hanging restic ran:\n${out}`);
    assert.equal(left, 0, 'the hung restic and its child are gone');
    assert.equal(paused, false, `the source must end un-paused:\n${out}`);
    assert.equal(leaseHeld, false, `the Lease must be released:\n${out}`);
    assert.match(out, /did not finish within|timed out/);
    assert.match(out, new RegExp(`Resumed ${ns}/${name}`));
  });
});
