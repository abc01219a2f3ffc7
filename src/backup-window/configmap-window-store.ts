/**
 * Window state in a ConfigMap in the bot's namespace, one key per window ("pbs.json") so that
 * `kubectl get configmap backup-bot-windows -o yaml` stays readable. Writes carry the
 * resourceVersion they read: two replicas (or a replica and a webhook handler) never lose each
 * other's changes, and only one of them can claim a summary.
 */
import type { Kube } from '../kube/client.ts';
import { ConfigMapData } from '../kube/configmap-data.ts';
import type { InstanceState, WindowsState, WindowStateStore } from './state.ts';
import { encodeWindows, fitState, prune } from './state.ts';

export const WINDOW_STATE_CONFIGMAP = 'backup-bot-windows';

export class ConfigMapWindowStore implements WindowStateStore {
  #cm: ConfigMapData;
  #now: () => Date;

  constructor(kube: Kube, opts: { namespace: string; name?: string; now?: () => Date }) {
    this.#cm = new ConfigMapData(kube, { namespace: opts.namespace, name: opts.name ?? WINDOW_STATE_CONFIGMAP });
    this.#now = opts.now ?? (() => new Date());
  }

  async read(): Promise<WindowsState> {
    return decode(await this.#cm.read());
  }

  /** Most wake-ups change nothing: then nothing is written (and no ConfigMap created). */
  async update<T>(change: (state: WindowsState) => T): Promise<T> {
    return this.#cm.update((data) => {
      const state = decode(data);
      const result = change(state);
      prune(state, this.#now());
      fitState(state);
      for (const k of Object.keys(data)) if (k.endsWith('.json')) delete data[k];
      Object.assign(data, encodeWindows(state));
      return result;
    });
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
