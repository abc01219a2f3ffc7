import { homedir } from 'node:os';
import { join } from 'node:path';
import { KUBE_VERSION } from './versions.ts';

// Outside the repo so a `git clean` or a fresh checkout keeps the (slow to build) binaries,
// and CI can cache one directory.
export function cacheRoot(): string {
  return process.env['BACKUP_BOT_CACHE'] ?? join(homedir(), '.cache', 'backup-bot');
}

export interface KubeCachePaths {
  root: string;
  binDir: string;
  srcDir: string;
  stampFile: string;
  goModCache: string;
  goBuildCache: string;
  apiserver: string;
  kubectl: string;
  etcd: string;
}

export function kubeCachePaths(version: string = KUBE_VERSION): KubeCachePaths {
  const root = join(cacheRoot(), 'kube', version);
  const binDir = join(root, 'bin');
  return {
    root,
    binDir,
    srcDir: join(root, 'src'),
    stampFile: join(root, 'build.stamp.json'),
    goModCache: join(cacheRoot(), 'go', 'mod'),
    goBuildCache: join(cacheRoot(), 'go', 'build'),
    apiserver: join(binDir, 'kube-apiserver'),
    kubectl: join(binDir, 'kubectl'),
    etcd: join(binDir, 'etcd'),
  };
}

// Where `scripts/cluster.ts` keeps the state of the detached dev cluster.
export function devClusterDir(): string {
  return join(cacheRoot(), 'cluster');
}
