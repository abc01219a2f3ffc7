/**
 * A Kube whose API clients count their calls (every generated method is one HTTP request), for
 * tests that assert how many requests a feature costs. Watches go through `kc` and are not counted.
 */
import type { Kube } from '../../../src/kube/client.ts';

/** Counts the API calls a Kube's clients make (every generated method is one HTTP request). */
export function countingKube(kube: Kube): { kube: Kube; calls: string[] } {
  const calls: string[] = [];
  const wrap = <T extends object>(api: T, group: string): T => new Proxy(api, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls.push(`${group}.${String(prop)}`);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    calls,
    kube: { ...kube, core: wrap(kube.core, 'core'), apps: wrap(kube.apps, 'apps'), batch: wrap(kube.batch, 'batch'), custom: wrap(kube.custom, 'custom'), coordination: wrap(kube.coordination, 'coordination'), apiext: wrap(kube.apiext, 'apiext') },
  };
}
