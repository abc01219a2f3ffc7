/**
 * Window state in a ConfigMap in the bot's namespace, one key per window ("pbs.json") so that
 * `kubectl get configmap backup-bot-windows -o yaml` stays readable. Writes carry the
 * resourceVersion they read: two replicas (or a replica and a webhook handler) never lose each
 * other's changes, and only one of them can claim a summary.
 */
import { UserError } from '../errors.ts';
import type { Kube } from '../kube/client.ts';
import { kubeErrorLine, statusCode } from '../kube/client.ts';
import type { InstanceState, WindowsState, WindowStateStore } from './state.ts';
import { prune } from './state.ts';

export const WINDOW_STATE_CONFIGMAP = 'backup-bot-windows';
const ATTEMPTS = 8;

export class ConfigMapWindowStore implements WindowStateStore {
  #kube: Kube;
  #namespace: string;
  #name: string;
  #now: () => Date;

  constructor(kube: Kube, opts: { namespace: string; name?: string; now?: () => Date }) {
    this.#kube = kube;
    this.#namespace = opts.namespace;
    this.#name = opts.name ?? WINDOW_STATE_CONFIGMAP;
    this.#now = opts.now ?? (() => new Date());
  }

  async read(): Promise<WindowsState> {
    return decode((await this.#read())?.data);
  }

  async update<T>(change: (state: WindowsState) => T): Promise<T> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const cm = await this.#read();
      const state = decode(cm?.data);
      const result = change(state);
      prune(state, this.#now());
      const data = encode(state);
      // Most wake-ups change nothing: then there is nothing to write (and no ConfigMap to create).
      if (sameData(data, cm?.data ?? {})) return result;
      try {
        if (!cm) {
          await this.#kube.core.createNamespacedConfigMap({
            namespace: this.#namespace,
            body: { metadata: { name: this.#name, labels: { 'app.kubernetes.io/managed-by': 'backup-bot' } }, data },
          });
        } else {
          await this.#kube.core.replaceNamespacedConfigMap({ name: this.#name, namespace: this.#namespace, body: { ...cm, data } });
        }
        return result;
      } catch (err) {
        // 409: another writer got there first (or created it); read again and re-apply the change.
        if (statusCode(err) === 409) continue;
        throw new UserError(kubeErrorLine(err, `write ConfigMap ${this.#namespace}/${this.#name}`, this.#kube));
      }
    }
    throw new UserError(`Could not save the backup window state: ConfigMap ${this.#namespace}/${this.#name} kept changing. It will be retried at the next wake-up.`);
  }

  async #read() {
    try {
      return await this.#kube.core.readNamespacedConfigMap({ name: this.#name, namespace: this.#namespace });
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw new UserError(kubeErrorLine(err, `read ConfigMap ${this.#namespace}/${this.#name}`, this.#kube));
    }
  }
}

function decode(data: Record<string, string> | undefined): WindowsState {
  const state: WindowsState = {};
  for (const [key, raw] of Object.entries(data ?? {})) {
    if (!key.endsWith('.json')) continue;
    try {
      const instances = JSON.parse(raw) as Record<string, InstanceState>;
      for (const inst of Object.values(instances)) {
        if (inst && typeof inst.id === 'string') state[inst.id] = inst;
      }
    } catch {
      // A hand-edited, broken key: start that window's memory afresh rather than stop every window.
    }
  }
  return state;
}

function encode(state: WindowsState): Record<string, string> {
  const byWindow: Record<string, Record<string, InstanceState>> = {};
  for (const inst of Object.values(state)) (byWindow[inst.window] ??= {})[inst.id] = inst;
  return Object.fromEntries(Object.entries(byWindow).map(([w, instances]) => [`${w}.json`, JSON.stringify(instances)]));
}

function sameData(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
