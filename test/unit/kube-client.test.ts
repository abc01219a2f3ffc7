// No kubeconfig is not a cluster: client-node's invented localhost:8080 fallback reads as "none".
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { isDefaultFallback, loadKube } from '../../src/kube/client.ts';

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const KUBECONFIG_YAML = (server: string) => `apiVersion: v1
kind: Config
clusters: [{ name: dev, cluster: { server: "${server}", insecure-skip-tls-verify: true } }]
users: [{ name: dev, user: { token: abc } }]
contexts: [{ name: dev, context: { cluster: dev, user: dev } }]
current-context: dev
`;

describe('loadKube', () => {
  it('returns undefined with no KUBECONFIG, no ~/.kube/config and no service account', () => {
    const home = mkdtempSync(join(tmpdir(), 'bb-kube-home-'));
    withEnv({ HOME: home, KUBECONFIG: undefined }, () => {
      const kc = new KubeConfig();
      kc.loadFromDefault();
      assert.equal(kc.getCurrentCluster()?.server, 'http://localhost:8080', 'the library invents a cluster');
      assert.equal(isDefaultFallback(kc), true);
      assert.equal(loadKube(), undefined);
    });
  });

  it('returns undefined when KUBECONFIG names a file that does not exist', () => {
    withEnv({ KUBECONFIG: '/nonexistent/backup-bot-kubeconfig' }, () => assert.equal(loadKube(), undefined));
  });

  it('loads a real kubeconfig, even one whose server is http://localhost:8080', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bb-kube-'));
    const file = join(dir, 'config');
    writeFileSync(file, KUBECONFIG_YAML('http://localhost:8080'));
    const viaEnv = withEnv({ KUBECONFIG: file }, () => loadKube());
    assert.equal(viaEnv?.server, 'http://localhost:8080');
    assert.equal(viaEnv?.context, 'dev');
    writeFileSync(file, KUBECONFIG_YAML('https://127.0.0.1:6443'));
    assert.equal(loadKube({ kubeconfigPath: file })?.server, 'https://127.0.0.1:6443');
  });
});
