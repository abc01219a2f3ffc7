/**
 * The API server going away in the middle of `/backup status` (a proxy in front of the real API
 * server is cut while the command's requests are in flight, then restored): the command answers
 * within seconds with one clear line or the status, never a stack trace or a hang, and the next
 * command after the restart succeeds. (The watch cache surviving a cut, and showing a change made
 * while it was down, is pinned in backup-cache.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { kubeUnavailableReason } from '../harness/kube/index.ts';
import type { KubeHarness } from '../harness/kube/index.ts';
import { kubeThroughProxy } from '../harness/kube/cuttable-proxy.ts';
import type { CuttableProxy } from '../harness/kube/cuttable-proxy.ts';
import type { Kube } from '../../src/kube/client.ts';
import { backupStatus } from '../../src/backup/status.ts';
import { renderText } from '../../src/terminal/render-text.ts';
import { Fixtures, MINUTE, kubeFixtures, uniq } from './backup-fixtures.ts';
import { stopAll } from '../harness/stop-all.ts';

const skip = await kubeUnavailableReason();

describe('API server cut during /backup status', { skip }, () => {
  let harness: KubeHarness;
  let fx: Fixtures;
  let proxy: CuttableProxy;
  let viaProxy: Kube;
  const ns = uniq('fkc');

  before(async () => {
    ({ harness, fx } = await kubeFixtures(ns));
    for (let i = 0; i < 5; i++) await fx.syncedSource(ns, `s${i}`, { pvc: `d${i}`, schedule: '0 * * * *', at: Date.now() - MINUTE });
    ({ proxy, kube: viaProxy } = await kubeThroughProxy(harness.kubeconfigPath));
  }, { timeout: 180_000 });

  after(() => stopAll(proxy, fx, harness));

  test('cut mid-command: a clear answer within seconds, no stack trace; after the restart the next one succeeds', { timeout: 60_000 }, async () => {
    const outcomes: string[] = [];
    let hung = 0;
    for (const delayMs of [0, 5, 20, 50]) {
      const t0 = Date.now();
      const running = backupStatus({ kube: viaProxy, now: () => new Date() }, { namespace: ns });
      await new Promise((r) => setTimeout(r, delayMs));
      await proxy.down();
      const r = await Promise.race([running, new Promise<undefined>((res) => setTimeout(() => res(undefined), 20_000))]);
      await proxy.up();
      if (r === undefined) {
        hung += 1;
        continue;
      }
      const text = renderText(r);
      assert.doesNotMatch(text, /\n\s+at |TypeError|undefined/, `no stack trace or internals:\n${text}`);
      if (r.tone === 'error') {
        assert.match(r.text, /API server at https:\/\/127\.0\.0\.1:\d+ (is unreachable|closed the connection|did not answer)|try again|retry/i, r.text);
        outcomes.push('clear error');
      } else {
        assert.match(r.text, /5 sources/);
        outcomes.push('answered');
      }
      assert.ok(Date.now() - t0 < 20_000);
    }
    const after = await backupStatus({ kube: viaProxy, now: () => new Date() }, { namespace: ns });
    console.log(`fault: apiserver cut during /backup status ×4: ${outcomes.filter((o) => o === 'answered').length} answered, ${outcomes.filter((o) => o === 'clear error').length} clear "try again" errors, hung = ${hung}, next command ${after.tone === 'error' ? 'failed' : 'ok'}, lost = ${hung}`);
    assert.equal(hung, 0, 'no command hangs');
    assert.notEqual(after.tone, 'error', after.text);
    assert.match(after.text, /5 sources/);
  });
});
