import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { kubectl } from './kubectl.ts';

export const DEFAULT_CRD_DIR = fileURLToPath(new URL('../../fixtures/crds/', import.meta.url));

/** Applies every CRD YAML in dir and waits until the API server serves each one. */
export async function installCrds(kubeconfigPath: string, dir: string = DEFAULT_CRD_DIR): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f));
  if (files.length === 0) return [];
  await kubectl(kubeconfigPath, ['apply', '--server-side', '--force-conflicts', '--field-manager=backup-bot-harness', '-f', dir]);
  const out = await kubectl(kubeconfigPath, ['wait', '--for=condition=Established', '--timeout=60s', '-f', dir, '-o', 'name']);
  return out
    .split('\n')
    .map((l) => l.trim().replace(/^customresourcedefinition\.apiextensions\.k8s\.io\//, ''))
    .filter(Boolean);
}
