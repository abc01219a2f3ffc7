/**
 * Which pods are known to crash transiently during a window. Patterns are regular expressions
 * matched against the whole pod name (anchored), so "etcd-.*" matches "etcd-talos-monitor" but
 * not "my-etcd-backup".
 */
import { WindowConfigError } from './window-times.ts';

const compiled = new Map<string, RegExp>();

function compile(pattern: string, index: number): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    try {
      re = new RegExp(`^(?:${pattern})$`);
    } catch (err) {
      throw new WindowConfigError('transientPods', `transientPods[${index}] ${JSON.stringify(pattern)} is not a valid regular expression (${(err as Error).message}); use e.g. "kube-scheduler-.*"`);
    }
    compiled.set(pattern, re);
  }
  return re;
}

/** Throws WindowConfigError naming the first pattern that is not a valid regular expression. */
export function validateTransientPods(patterns: readonly string[]): void {
  patterns.forEach((pattern, index) => compile(pattern, index));
}

/** true when `pod` fully matches one of `patterns`. */
export function isTransientPod(patterns: readonly string[], pod: string): boolean {
  return patterns.some((pattern, index) => compile(pattern, index).test(pod));
}
