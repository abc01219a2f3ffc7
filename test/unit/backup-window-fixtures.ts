// Shared by the backup-window tests: a Services object with only what the window uses, and
// recording stand-ins for Alertmanager silences, Slack posting, alert threads and mover pods.
import pino from 'pino';
import type { Services } from '../../src/command/context.ts';
import type { Config } from '../../src/config.ts';
import { parseEnv, parseFileConfig } from '../../src/config.ts';
import type { Silence } from '../../src/alerts/alertmanager-types.ts';
import type { CreateSilence } from '../../src/alerts/silences.ts';
import type { Leadership } from '../../src/leader.ts';
import type { Reply } from '../../src/reply.ts';
import type { AlertThreads, CrashAlertEvent } from '../../src/backup-window/alert-hooks.ts';
import type { FiringAlert, FiringAlertsSource } from '../../src/backup-window/firing-alerts.ts';
import type { MoverEvidence, MoverSource } from '../../src/backup-window/mover-evidence.ts';
import type { WindowSilences } from '../../src/backup-window/service.ts';
import { MemoryWindowStore } from '../../src/backup-window/state.ts';
import type { SummaryPoster } from '../../src/backup-window/slack-posting.ts';

export const ALERTS_CHANNEL = 'C0ALERTS';
export const ONCALL = 'S0ONCALL';

export function testConfig(file: Record<string, unknown>, env: NodeJS.ProcessEnv = { SLACK_MODE: 'terminal' }): Config {
  return { ...parseFileConfig(file, 'test'), env: parseEnv(env), source: 'test' };
}

export class TestLeadership implements Leadership {
  leader: boolean;
  #listeners: Array<(l: boolean) => void> = [];
  constructor(leader = true) {
    this.leader = leader;
  }
  isLeader(): boolean {
    return this.leader;
  }
  onChange(listener: (leader: boolean) => void): void {
    this.#listeners.push(listener);
  }
  set(leader: boolean): void {
    this.leader = leader;
    for (const l of this.#listeners) l(leader);
  }
}

export function testServices(opts: { config: Config; leadership?: Leadership; slack?: Services['slack'] }): Services {
  return {
    config: opts.config,
    log: pino({ level: process.env['TEST_LOG'] ?? 'silent' }),
    access: undefined as unknown as Services['access'],
    audit: undefined as unknown as Services['audit'],
    confirmations: undefined as unknown as Services['confirmations'],
    leadership: opts.leadership ?? new TestLeadership(true),
    ...(opts.slack ? { slack: opts.slack } : {}),
  };
}

/**
 * What the window runtime (BackupWindowService, startBackupWindows) is given, every one a stand-in:
 * a test passes the ones it prepares or shares between runs, and reads the recordings back.
 */
export function windowStandIns(opts: { config: Config; leadership?: TestLeadership; store?: MemoryWindowStore; silences?: RecordingSilences; movers?: FixedMovers }) {
  const leadership = opts.leadership ?? new TestLeadership(true);
  return {
    services: testServices({ config: opts.config, leadership }),
    leadership,
    store: opts.store ?? new MemoryWindowStore(),
    silences: opts.silences ?? new RecordingSilences(),
    poster: new RecordingPoster(),
    threads: new RecordingThreads(),
    movers: opts.movers ?? new FixedMovers(),
  };
}

/** Alertmanager's silences as the window uses them, in memory: enough to count creations and expiries. */
export class RecordingSilences implements WindowSilences {
  all: Silence[] = [];
  created = 0;
  expired: string[] = [];
  #n = 0;
  async create(s: CreateSilence): Promise<string> {
    const id = `00000000-0000-4000-8000-${String(++this.#n).padStart(12, '0')}`;
    this.created++;
    this.all.push({
      id,
      status: { state: 'active' },
      updatedAt: new Date().toISOString(),
      matchers: s.matchers,
      startsAt: new Date(s.startsAt).toISOString(),
      endsAt: new Date(s.endsAt).toISOString(),
      createdBy: s.createdBy,
      comment: s.comment,
    });
    return id;
  }
  async expire(id: string): Promise<void> {
    const s = this.all.find((x) => x.id === id);
    if (!s) throw new Error(`no silence ${id}`);
    s.status = { state: 'expired' };
    this.expired.push(id);
  }
  async findOwned(marker: string): Promise<Silence[]> {
    return this.all.filter((s) => s.comment.includes(marker) && s.status.state !== 'expired');
  }
  silenceUrl(id: string): string {
    return `http://alertmanager.test/#/silences/${id}`;
  }
  active(): Silence[] {
    return this.all.filter((s) => s.status.state === 'active');
  }
}

export class RecordingPoster implements SummaryPoster {
  posts: Array<{ channel: string; reply: Reply; ts: string }> = [];
  failNext = 0;
  async post(channel: string, reply: Reply): Promise<{ ts?: string }> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('An API error occurred: ratelimited');
    }
    const ts = `1790000000.${String(this.posts.length + 1).padStart(6, '0')}`;
    this.posts.push({ channel, reply, ts });
    return { ts };
  }
}

export class RecordingThreads implements AlertThreads {
  posts: Array<{ channel: string; threadTs: string; reply: Reply }> = [];
  async postInThread(channel: string, threadTs: string, reply: Reply): Promise<void> {
    this.posts.push({ channel, threadTs, reply });
  }
}

export class FixedMovers implements MoverSource {
  evidence: Omit<MoverEvidence, 'checkedAt'>;
  calls = 0;
  constructor(evidence: Omit<MoverEvidence, 'checkedAt'> = { running: [], pending: 0 }) {
    this.evidence = evidence;
  }
  async movers(now: Date): Promise<MoverEvidence> {
    this.calls++;
    return { checkedAt: now, ...this.evidence };
  }
}

export class FixedFiring implements FiringAlertsSource {
  alerts: FiringAlert[] = [];
  async firing(names: readonly string[]): Promise<FiringAlert[]> {
    return names.length === 0 ? this.alerts : this.alerts.filter((a) => names.includes(a.labels['alertname'] ?? ''));
  }
}

let fp = 0;
export function crashEvent(over: Partial<CrashAlertEvent> & { pod: string; namespace?: string; at: Date }): CrashAlertEvent {
  const { pod, namespace, at, ...rest } = over;
  return {
    groupKey: `{}:{alertname="KubePodCrashLooping", namespace="${namespace ?? 'kube-system'}"}`,
    channel: ALERTS_CHANNEL,
    threadTs: `1790000000.${String(++fp).padStart(6, '1')}`,
    status: 'firing',
    labels: { alertname: 'KubePodCrashLooping', namespace: namespace ?? 'kube-system', pod, container: 'main' },
    startsAt: new Date(at.getTime() - 15 * 60_000).toISOString(),
    fingerprint: `fp-${pod}`,
    receivedAt: at,
    ...rest,
  };
}
