// How a test file gets an API server: the one the test runner shared through
// BACKUP_BOT_TEST_KUBECONFIG if there is one, else its own.
import { kubeBinariesBuilt } from './build-binaries.ts';
import { readKubeconfig } from './kubeconfig.ts';
import { startKube, type KubeHarness, type StartKubeOptions } from './start-kube.ts';

export const SHARED_KUBECONFIG_ENV = 'BACKUP_BOT_TEST_KUBECONFIG';

/** Why the caller should skip, or undefined when a server is (or can be) available. */
export async function kubeUnavailableReason(): Promise<string | undefined> {
  if (process.env[SHARED_KUBECONFIG_ENV]) return undefined;
  if (await kubeBinariesBuilt()) return undefined;
  const why = 'kube-apiserver/etcd/kubectl are not built; run test/harness/setup/kube.sh';
  // Integration tests may only skip outside CI.
  if (process.env['CI']) throw new Error(`${why} (CI is set, so this is a failure, not a skip)`);
  return why;
}

/**
 * A harness for one test file. With BACKUP_BOT_TEST_KUBECONFIG set, it points at the shared server
 * and stop() leaves that server running; otherwise it starts a private one.
 * Tests sharing a server must use their own namespaces (names unique per file).
 */
export async function kubeForTests(opts: StartKubeOptions = {}): Promise<KubeHarness> {
  const shared = process.env[SHARED_KUBECONFIG_ENV];
  if (!shared) return startKube(opts);
  const parts = await readKubeconfig(shared);
  return {
    kubeconfigPath: shared,
    server: parts.server,
    token: parts.token,
    dataDir: '',
    crds: [],
    pids: { etcd: -1, apiserver: -1 },
    stop: async () => {},
  };
}
