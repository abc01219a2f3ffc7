/**
 * A ConfigMap as a small shared store for the bot's own state (confirmations, alert threads, window
 * bookkeeping). Every write carries the resourceVersion it read, so replicas and concurrent
 * handlers never overwrite each other: on a 409 the change is re-applied to fresh data, and the
 * change function sees what the winner wrote (that is how a double click loses cleanly).
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import { UserError } from '../errors.ts';
import type { Kube } from './client.ts';
import { kubeErrorLine, statusCode } from './client.ts';

const ATTEMPTS = 8;

export class ConfigMapData {
  readonly namespace: string;
  readonly name: string;
  #kube: Kube;

  constructor(kube: Kube, opts: { namespace: string; name: string }) {
    this.#kube = kube;
    this.namespace = opts.namespace;
    this.name = opts.name;
  }

  get where(): string {
    return `ConfigMap ${this.namespace}/${this.name}`;
  }

  async read(): Promise<Record<string, string>> {
    return { ...((await this.#read())?.data ?? {}) };
  }

  /**
   * Applies `change` to a copy of the current data and writes it back, unless nothing changed.
   * `change` may run more than once (after a conflict) and may throw to abort without writing.
   */
  async update<T>(change: (data: Record<string, string>) => T): Promise<T> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const cm = await this.#read();
      const before = cm?.data ?? {};
      const data = { ...before };
      const result = change(data);
      if (sameData(data, before)) return result;
      try {
        if (!cm) {
          await this.#kube.core.createNamespacedConfigMap({
            namespace: this.namespace,
            body: { metadata: { name: this.name, labels: { 'app.kubernetes.io/managed-by': 'backup-bot' } }, data },
          });
        } else {
          await this.#kube.core.replaceNamespacedConfigMap({ name: this.name, namespace: this.namespace, body: { ...cm, data } });
        }
        return result;
      } catch (err) {
        // 409: another writer got there first (or created it first); read again and re-apply.
        if (statusCode(err) === 409) continue;
        throw new UserError(kubeErrorLine(err, `write ${this.where}`, this.#kube));
      }
    }
    throw new UserError(`${this.where} kept changing while the bot tried to save its state. Try again.`);
  }

  async #read(): Promise<V1ConfigMap | undefined> {
    try {
      return await this.#kube.core.readNamespacedConfigMap({ name: this.name, namespace: this.namespace });
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw new UserError(kubeErrorLine(err, `read ${this.where}`, this.#kube));
    }
  }
}

function sameData(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
