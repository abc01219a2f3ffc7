// For `node --test --test-global-setup=test/harness/kube/global-setup.ts`: one API server for the
// whole run, handed to every test file through BACKUP_BOT_TEST_KUBECONFIG; and the suite-wide
// secrets scan (test/harness/secrets-scan.ts), which fails the run on any hit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCAN_DIR_ENV, scanDirectory } from '../secrets-scan.ts';
import { kubeUnavailableReason, SHARED_KUBECONFIG_ENV } from './kube-for-tests.ts';
import { startKube, type KubeHarness } from './start-kube.ts';

let harness: KubeHarness | undefined;
let scanDir: string | undefined;

export async function globalSetup(): Promise<void> {
  if (!process.env[SCAN_DIR_ENV]) {
    scanDir = mkdtempSync(join(tmpdir(), 'backup-bot-secrets-scan-'));
    process.env[SCAN_DIR_ENV] = scanDir;
  }
  if (process.env[SHARED_KUBECONFIG_ENV]) return;
  // Binaries missing outside CI: start nothing, the integration tests skip themselves.
  // In CI this throws, failing the run.
  const missing = await kubeUnavailableReason();
  if (missing) {
    process.stderr.write(`[kube] not starting a shared API server: ${missing}\n`);
    return;
  }
  harness = await startKube({ log: (l) => process.stderr.write(`[kube] ${l}\n`) });
  process.env[SHARED_KUBECONFIG_ENV] = harness.kubeconfigPath;
}

export async function globalTeardown(): Promise<void> {
  await harness?.stop();
  harness = undefined;
  if (!scanDir) return;
  const dir = scanDir;
  scanDir = undefined;
  const scan = scanDirectory(dir);
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`secrets scan: ${scan.secrets} secrets the suite used, looked for in ${scan.logLines} bot log lines and ${scan.slackPayloads} Slack payloads: ${scan.hits.length} hits\n`);
  if (scan.hits.length > 0) {
    for (const h of scan.hits.slice(0, 20)) process.stdout.write(`  ${h.kind} ${h.file}: ${h.secretPrefix} in …${h.excerpt}…\n`);
    throw new Error(`secrets scan: ${scan.hits.length} secrets found in the bot's logs or Slack payloads (see above)`);
  }
}
