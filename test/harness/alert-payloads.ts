/**
 * Alertmanager's webhook notification (version 4) as the bot's /alertmanager endpoint receives it,
 * for tests that post notifications themselves rather than through a real Alertmanager, and the
 * POST that delivers one with the webhook token.
 */
import assert from 'node:assert/strict';

/** One notification: a firing group `groupKey` of `alertname` in `namespace`, one alert per pod. */
export function webhookPayload(o: { groupKey: string; alertname: string; namespace: string; pods: string[]; labels?: Record<string, string> }): string {
  const group = { alertname: o.alertname, namespace: o.namespace };
  return JSON.stringify({
    version: '4', groupKey: o.groupKey, truncatedAlerts: 0, status: 'firing', receiver: 'bot',
    groupLabels: group, commonLabels: group,
    commonAnnotations: {}, externalURL: 'http://127.0.0.1:9093',
    alerts: o.pods.map((pod) => ({
      status: 'firing', labels: { ...group, pod, ...o.labels }, annotations: {},
      startsAt: new Date().toISOString(), endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: `fp-${pod}`,
    })),
  });
}

/** A TargetDown group per namespace, grouped by alertname and namespace as the default route does. */
export function targetDownPayload(namespace: string, pods: string[]): string {
  return webhookPayload({ groupKey: `{}:{alertname="TargetDown", namespace="${namespace}"}`, alertname: 'TargetDown', namespace, pods });
}

/**
 * `count` TargetDown alerts in `groups` groups (namespaces ns0…), posted one new alert at a time,
 * each notification carrying its group's whole set as Alertmanager resends it; every one must be
 * answered 200. The pods, in the order posted.
 */
export async function postTargetDownAlerts(botUrl: string, token: string, count: number, groups: number): Promise<string[]> {
  const pods: string[] = [];
  for (let i = 0; i < count; i++) {
    const group = `ns${i % groups}`;
    pods.push(`${group}-pod${Math.floor(i / groups)}`);
    const res = await postWebhook(botUrl, token, targetDownPayload(group, pods.filter((p) => p.startsWith(`${group}-`))));
    assert.equal(res.status, 200);
  }
  return pods;
}

/** POSTs a notification to the bot's /alertmanager endpoint with the webhook token. */
export function postWebhook(botUrl: string, token: string, body: string): Promise<Response> {
  return fetch(`${botUrl}/alertmanager`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
}
