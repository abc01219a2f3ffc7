/**
 * How one instance's record changes: created when the instance is first seen live, and its alerts
 * updated from notifications (webhook) and from Alertmanager (muted alerts, and the truth at close).
 * Pure functions on the state a WindowStateStore hands to update().
 */
import type { FiringAlert } from './firing-alerts.ts';
import type { CrashAlertEvent } from './alert-hooks.ts';
import type { InstanceState, ObservedAlert, WindowsState } from './state.ts';
import { MAX_ALERTS } from './state.ts';
import { alertKey, capText } from '../alerts/thread-store.ts';
import type { WindowInstance } from '../window/index.ts';
import type { WindowSettings } from './window-settings.ts';
import { configHash } from './window-settings.ts';
import { isWindowTransient } from './facts.ts';

export function ensureInstance(st: WindowsState, w: WindowSettings, inst: WindowInstance, at: Date): InstanceState {
  const existing = st[inst.id];
  if (existing) {
    existing.mode = w.mode;
    existing.cfg = configHash(w);
    return existing;
  }
  const rec: InstanceState = {
    id: inst.id,
    window: w.name,
    zone: w.zone,
    start: inst.start.toISOString(),
    end: inst.end.toISOString(),
    graceEnd: inst.graceEnd.toISOString(),
    openedAt: at.toISOString(),
    mode: w.mode,
    cfg: configHash(w),
    alerts: {},
  };
  st[inst.id] = rec;
  return rec;
}

function validTime(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  // Alertmanager's "no end" is 0001-01-01.
  return Number.isNaN(t) || t <= 0 ? undefined : new Date(t).toISOString();
}

/** Label values kept in window state: Kubernetes names fit; anything longer is capped with a hash. */
function labelsOf(target: ObservedAlert, labels: Record<string, string>): void {
  for (const k of ['alertname', 'namespace', 'pod', 'container'] as const) {
    if (labels[k]) target[k] = capText(labels[k]);
  }
}

export function upsertAlert(rec: InstanceState, e: CrashAlertEvent, w: WindowSettings): ObservedAlert | undefined {
  const at = e.receivedAt.toISOString();
  const fingerprint = alertKey(e.fingerprint);
  let a = rec.alerts[fingerprint];
  if (!a) {
    if (Object.keys(rec.alerts).length >= MAX_ALERTS) {
      rec.dropped = (rec.dropped ?? 0) + 1;
      return undefined;
    }
    a = {
      fingerprint,
      status: e.status,
      firstSeenAt: at,
      lastSeenAt: at,
      transient: isWindowTransient(w, e.labels['pod'], e.labels['namespace']),
      source: 'webhook',
    };
    rec.alerts[fingerprint] = a;
  }
  labelsOf(a, e.labels);
  a.channel = e.channel;
  a.threadTs = e.threadTs;
  a.source = 'webhook';
  a.lastSeenAt = at;
  a.status = e.status;
  if (e.status === 'resolved') a.resolvedAt = validTime(e.endsAt) ?? at;
  else delete a.resolvedAt;
  return a;
}

/** Alerts behind one of the instance's silences are firing (and were muted); those no longer there recovered. */
export function mergeMuted(rec: InstanceState, firing: FiringAlert[], now: Date): void {
  const ids = new Set(rec.silenceIds ?? (rec.silence ? [rec.silence.id] : []));
  if (ids.size === 0) return;
  const at = now.toISOString();
  const muted = firing.filter((f) => f.silencedBy.some((s) => ids.has(s)));
  const seen = new Set<string>();
  for (const f of muted) {
    const fingerprint = alertKey(f.fingerprint);
    seen.add(fingerprint);
    let a = rec.alerts[fingerprint];
    if (!a) {
      if (Object.keys(rec.alerts).length >= MAX_ALERTS) {
        rec.dropped = (rec.dropped ?? 0) + 1;
        continue;
      }
      a = { fingerprint, status: 'firing', firstSeenAt: at, lastSeenAt: at, transient: true, source: 'silenced' };
      rec.alerts[fingerprint] = a;
    }
    labelsOf(a, f.labels);
    a.status = 'firing';
    a.lastSeenAt = at;
    delete a.resolvedAt;
  }
  // Gone from Alertmanager: recovered. Still there but no longer behind our silence (it ended at the
  // grace end, a moment before the close): still firing.
  const current = new Set(firing.map((f) => alertKey(f.fingerprint)));
  for (const a of Object.values(rec.alerts)) {
    if (a.source === 'silenced' && a.status === 'firing' && !seen.has(a.fingerprint) && !current.has(a.fingerprint)) {
      a.status = 'resolved';
      a.resolvedAt = at;
    }
  }
}

/**
 * At close, Alertmanager is the truth: an alert it no longer holds has recovered even if its
 * "resolved" notification is still waiting out the route's group_interval.
 */
export function resolveGone(rec: InstanceState, firing: FiringAlert[], now: Date): void {
  const current = new Set(firing.map((f) => alertKey(f.fingerprint)));
  for (const a of Object.values(rec.alerts)) {
    if (a.status === 'firing' && !current.has(a.fingerprint)) {
      a.status = 'resolved';
      a.resolvedAt = now.toISOString();
    }
  }
}
