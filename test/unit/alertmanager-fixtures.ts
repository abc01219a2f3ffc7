// Shared by the Alertmanager webhook and queue tests: a version-4 notification of one crash-loop
// group, and the bot's HTTP server with POST /alertmanager mounted on a NotificationQueue.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import pino from 'pino';
import type { WebhookPayload } from '../../src/alerts/alertmanager-types.ts';
import { NotificationQueue } from '../../src/alerts/notification-queue.ts';
import { mountWebhook } from '../../src/alerts/webhook-route.ts';
import { HttpServer } from '../../src/http/server.ts';

/**
 * A KubePodCrashLooping notification for `groupKey`; each alert is `[fingerprint, status]`, its pod
 * named after the fingerprint. The group fires while any of its alerts does, as Alertmanager's do.
 */
export function crashLoopPayload(groupKey: string, alerts: Array<[string, 'firing' | 'resolved']>): WebhookPayload {
  return {
    version: '4',
    groupKey,
    truncatedAlerts: 0,
    status: alerts.some(([, s]) => s === 'firing') ? 'firing' : 'resolved',
    receiver: 'bot',
    groupLabels: { alertname: 'KubePodCrashLooping' },
    commonLabels: { alertname: 'KubePodCrashLooping' },
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    alerts: alerts.map(([fp, status]) => ({
      status,
      labels: { alertname: 'KubePodCrashLooping', namespace: 'media', pod: `plex-${fp}` },
      annotations: {},
      startsAt: '2026-01-01T02:04:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: '',
      fingerprint: fp,
    })),
  };
}

/**
 * Called inside a describe: before its tests, the bot's HTTP server on a free loopback port with
 * POST /alertmanager behind `token`, queuing into a NotificationQueue of `capacity`; closed after.
 * `url` is the webhook's address once the server listens.
 */
export function webhookServer(token: string, capacity: number): { queue: NotificationQueue; url: string } {
  const log = pino({ level: 'silent' });
  const hook = { queue: new NotificationQueue({ capacity }), url: '' };
  let server: HttpServer | undefined;
  before(async () => {
    server = new HttpServer(log);
    assert.equal(mountWebhook({ server, token, log, offer: (p, at) => hook.queue.offer(p, at) }), true);
    const port = await server.listen(0, '127.0.0.1');
    hook.url = `http://127.0.0.1:${port}/alertmanager`;
  });
  after(() => server?.close());
  return hook;
}
