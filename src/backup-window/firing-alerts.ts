/**
 * Which crash-loop alerts Alertmanager holds right now, with the silences muting them. The window
 * needs this twice: a `mute` window's alerts never reach the webhook (they are silenced), so they
 * are read here to be counted and, if still firing at close, escalated; and at close an alert
 * whose "resolved" notification is still in Alertmanager's group_interval must not be escalated.
 */
import { SilencesClient } from '../alerts/silences.ts';

export interface FiringAlert {
  fingerprint: string;
  labels: Record<string, string>;
  startsAt: string;
  /** Ids of the silences muting it. */
  silencedBy: string[];
}

export interface FiringAlertsSource {
  /** Active, silenced or inhibited (but not resolved) alerts whose alertname is one of `alertNames` (all when empty). */
  firing(alertNames: readonly string[]): Promise<FiringAlert[]>;
}

/** Firing alerts from Alertmanager (the same client, credentials and errors as the silences). */
export function alertmanagerFiringAlerts(am: SilencesClient | string): FiringAlertsSource {
  const client = typeof am === 'string' ? new SilencesClient({ baseUrl: am }) : am;
  return {
    async firing(alertNames) {
      const now = Date.now();
      return (await client.alerts({ alertNames }))
        // Alertmanager keeps resolved alerts until they are collected; they are not firing.
        .filter((a) => typeof a.endsAt !== 'string' || Number.isNaN(Date.parse(a.endsAt)) || Date.parse(a.endsAt) > now)
        .map((a): FiringAlert => ({
          fingerprint: a.fingerprint,
          labels: a.labels ?? {},
          startsAt: typeof a.startsAt === 'string' ? a.startsAt : '',
          silencedBy: Array.isArray(a.status?.silencedBy) ? a.status.silencedBy.filter((x): x is string => typeof x === 'string') : [],
        }));
    },
  };
}
