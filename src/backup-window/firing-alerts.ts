/**
 * Which crash-loop alerts Alertmanager holds right now, with the silences muting them. The window
 * needs this twice: a `mute` window's alerts never reach the webhook (they are silenced), so they
 * are read here to be counted and, if still firing at close, escalated; and at close an alert
 * whose "resolved" notification is still in Alertmanager's group_interval must not be escalated.
 */

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

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** GET /api/v2/alerts on Alertmanager (ALERTMANAGER_URL; credentials in the URL are sent as Basic auth, never shown). */
export function alertmanagerFiringAlerts(baseUrl: string, opts: { fetch?: typeof fetch; timeoutMs?: number } = {}): FiringAlertsSource {
  const base = new URL(baseUrl);
  const authorization = base.username || base.password
    ? `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`
    : undefined;
  base.username = '';
  base.password = '';
  base.search = '';
  base.hash = '';
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const shown = base.href.replace(/\/$/, '');
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return {
    async firing(alertNames) {
      const url = new URL('api/v2/alerts', base);
      for (const state of ['active', 'silenced', 'inhibited', 'unprocessed']) url.searchParams.set(state, 'true');
      if (alertNames.length > 0) url.searchParams.append('filter', `alertname=~"${alertNames.map(escapeRegex).join('|')}"`);
      let res: Response;
      try {
        res = await doFetch(url, {
          headers: { accept: 'application/json', ...(authorization ? { authorization } : {}) },
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const e = err as { name?: string; cause?: { code?: string } };
        throw new Error(`Alertmanager at ${shown} did not answer GET /api/v2/alerts (${e.name === 'TimeoutError' ? 'timeout' : e.cause?.code ?? 'unreachable'}): check ALERTMANAGER_URL`);
      }
      if (!res.ok) throw new Error(`Alertmanager at ${shown} rejected GET /api/v2/alerts (${res.status})`);
      const body: unknown = await res.json();
      if (!Array.isArray(body)) throw new Error(`Alertmanager at ${shown} answered GET /api/v2/alerts with something that is not a list`);
      const now = Date.now();
      return body
        .filter((a): a is Record<string, unknown> => typeof a === 'object' && a !== null && typeof (a as { fingerprint?: unknown }).fingerprint === 'string')
        // Alertmanager keeps resolved alerts until they are collected; they are not firing.
        .filter((a) => typeof a['endsAt'] !== 'string' || Number.isNaN(Date.parse(a['endsAt'])) || Date.parse(a['endsAt']) > now)
        .map((a): FiringAlert => {
          const status = (a['status'] ?? {}) as { silencedBy?: unknown };
          return {
            fingerprint: a['fingerprint'] as string,
            labels: (a['labels'] ?? {}) as Record<string, string>,
            startsAt: typeof a['startsAt'] === 'string' ? a['startsAt'] : '',
            silencedBy: Array.isArray(status.silencedBy) ? status.silencedBy.filter((s): s is string => typeof s === 'string') : [],
          };
        });
    },
  };
}
