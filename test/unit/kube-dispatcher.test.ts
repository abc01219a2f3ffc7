// client-node authenticates each request with a new undici Agent unless the bot shares one:
// every watch, list and lease renewal would open its own pool and TLS connection.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { kubeFromConfig } from '../../src/kube/client.ts';

const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');

function kubeconfig(user: { token?: string; certData?: string; keyData?: string }): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: CA, skipTLSVerify: false }],
    users: [{ name: 'u', ...user }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function dispatcherOf(kc: KubeConfig): Promise<unknown> {
  const ctx = new RequestContext('https://127.0.0.1:6443/api/v1/pods', HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return ctx.getDispatcher();
}

describe('Kubernetes requests share one undici Agent', () => {
  it('two requests with the same TLS options get the same dispatcher', async () => {
    const kube = kubeFromConfig(kubeconfig({ token: 't0ken' }));
    const first = await dispatcherOf(kube.kc);
    assert.ok(first, 'a TLS cluster gets a dispatcher');
    assert.equal(await dispatcherOf(kube.kc), first);
  });

  it('new TLS options (a rotated client certificate) get a new dispatcher', async () => {
    const kc = kubeconfig({ certData: Buffer.from('cert-1').toString('base64'), keyData: Buffer.from('key-1').toString('base64') });
    kubeFromConfig(kc);
    const first = await dispatcherOf(kc);
    kc.users[0] = { ...kc.users[0]!, certData: Buffer.from('cert-2').toString('base64') };
    const rotated = await dispatcherOf(kc);
    assert.notEqual(rotated, first);
    assert.equal(await dispatcherOf(kc), rotated);
  });

  it('kubeFromConfig twice on one KubeConfig still shares', async () => {
    const kc = kubeconfig({ token: 't0ken' });
    kubeFromConfig(kc);
    kubeFromConfig(kc);
    assert.equal(await dispatcherOf(kc), await dispatcherOf(kc));
  });
});
