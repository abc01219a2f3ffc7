import { ensureKubeBinaries } from './build-binaries.ts';
import { runCommand } from './run-command.ts';

/** Runs the harness's own kubectl against a kubeconfig; resolves with stdout. */
export async function kubectl(kubeconfigPath: string, args: string[], input?: string): Promise<string> {
  const { kubectl: bin } = await ensureKubeBinaries();
  const { stdout } = await runCommand(bin, ['--kubeconfig', kubeconfigPath, ...args], {
    input,
    env: { ...process.env, KUBECONFIG: kubeconfigPath },
  });
  return stdout;
}
