/**
 * `node --test --test-global-setup`: one kube-apiserver for the whole run, shared with every test
 * file through BACKUP_BOT_TEST_KUBECONFIG (each file uses its own namespaces). Without the built
 * binaries the integration tests skip on a laptop; in CI that is a failure.
 */
import { kubeUnavailableReason, SHARED_KUBECONFIG_ENV, startKube } from './harness/kube/index.ts';
import type { KubeHarness } from './harness/kube/index.ts';

let harness: KubeHarness | undefined;

export async function globalSetup(): Promise<void> {
  if (process.env[SHARED_KUBECONFIG_ENV]) return;
  const reason = await kubeUnavailableReason();
  if (reason) {
    process.stderr.write(`[test] integration tests that need Kubernetes will skip: ${reason}\n`);
    return;
  }
  harness = await startKube({ log: (l) => { if (process.env.BACKUP_BOT_TEST_VERBOSE) process.stderr.write(`[kube] ${l}\n`); } });
  process.env[SHARED_KUBECONFIG_ENV] = harness.kubeconfigPath;
}

export async function globalTeardown(): Promise<void> {
  await harness?.stop();
}
