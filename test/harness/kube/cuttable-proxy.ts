// A TCP proxy in front of the API server that a test can cut and restore: the bot sees the API
// server go away (every connection dropped, new ones refused) and come back on the same address,
// as in a restart, without disturbing the shared server other tests use.
import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeFromConfig } from '../../../src/kube/client.ts';
import type { Kube } from '../../../src/kube/client.ts';

/** A TCP proxy that can be cut (every connection dropped, new ones refused) and restored on the same port. */
export class CuttableProxy {
  #target: { host: string; port: number };
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  port = 0;

  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.#target.port, this.#target.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => { client.destroy(); upstream.destroy(); });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * A CuttableProxy (up) in front of the API server of kubeconfigPath, and a Kube with the same
 * credentials that talks to the server through it.
 */
export async function kubeThroughProxy(kubeconfigPath: string): Promise<{ proxy: CuttableProxy; kube: Kube }> {
  const base = new KubeConfig();
  base.loadFromFile(kubeconfigPath);
  const url = new URL(base.getCurrentCluster()!.server);
  const proxy = new CuttableProxy({ host: url.hostname, port: Number(url.port) });
  await proxy.up();
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ ...base.getCurrentCluster()!, server: `https://127.0.0.1:${proxy.port}` }], users: base.getUsers(), contexts: base.getContexts(), currentContext: base.getCurrentContext() });
  return { proxy, kube: kubeFromConfig(kc) };
}
