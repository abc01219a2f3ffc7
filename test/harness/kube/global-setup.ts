// For `node --test --test-global-setup=test/harness/kube/global-setup.ts`: one API server for the
// whole run, handed to every test file through BACKUP_BOT_TEST_KUBECONFIG.
import { kubeUnavailableReason, SHARED_KUBECONFIG_ENV } from './kube-for-tests.ts';
import { startKube, type KubeHarness } from './start-kube.ts';

let harness: KubeHarness | undefined;

export async function globalSetup(): Promise<void> {
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
}
