/**
 * The backup window at run time. Every wake-up (a cron tick, the timer for the next edge, a
 * leadership change, start-up) runs one reconcile that works out from the clock alone what should
 * be true now, and makes it so:
 *
 * - each live instance (start <= now < end of its grace period) has a record; in `mute` mode it
 *   has exactly one Alertmanager silence carrying its marker, and no other window silence of ours
 *   survives (closed instance, changed configuration, duplicate);
 * - each instance whose grace period is over is closed once: summary posted, still-firing alerts
 *   escalated in their own threads.
 *
 * So a restart at 02:40 behaves as if the bot had run all night, and a missed or doubled tick does
 * no harm. Reconciles run only on the leader; the alert hooks run on whichever replica receives
 * the webhook and write to the same shared state.
 */
import type { Logger } from 'pino';
import type { Services } from '../command/context.ts';
import type { Silence } from '../alerts/alertmanager-types.ts';
import type { CreateSilence } from '../alerts/silences.ts';
import { SilencesClient } from '../alerts/silences.ts';
import type { Block } from '../reply.ts';
import { botNamespace } from '../kube/client.ts';
import type { Leadership } from '../leader.ts';
import { nextChangeAt } from '../window/index.ts';
import type { WindowInstance } from '../window/index.ts';
import type { AlertHooks, AlertThreads, CrashAlertEvent } from './alert-hooks.ts';
import { annotationBlocks } from './annotation.ts';
import { ConfigMapWindowStore } from './configmap-window-store.ts';
import type { FiringAlertsSource } from './firing-alerts.ts';
import { alertmanagerFiringAlerts } from './firing-alerts.ts';
import type { MoverEvidence, MoverSource } from './mover-evidence.ts';
import { kubeMoverSource } from './mover-evidence.ts';
import { cachedMoverPods } from '../volsync/mover-pods.ts';
import { slackAlertThreads, slackSummaryPoster } from './slack-posting.ts';
import type { SummaryPoster } from './slack-posting.ts';
import type { InstanceState, WindowsState, WindowStateStore } from './state.ts';
import { MemoryWindowStore } from './state.ts';
import { ensureInstance, mergeMuted, resolveGone, upsertAlert } from './instance-records.ts';
import { escalationReply, stillFiring, summaryReply } from './summary.ts';
import { parseWindowMarker, WINDOW_MARKER_PREFIX, windowMarker, windowSilence } from './window-silence.ts';
import type { WindowSettings } from './window-settings.ts';
import { configHash, windowSettings } from './window-settings.ts';
import { coveringInstance, liveInstances } from './facts.ts';

/** The part of SilencesClient the window uses (the real client, or a stand-in in unit tests). */
export interface WindowSilences {
  create(s: CreateSilence): Promise<string>;
  expire(id: string): Promise<void>;
  findOwned(marker: string): Promise<Silence[]>;
  silenceUrl(id: string): string;
}

export interface BackupWindowServiceOptions {
  services: Services;
  /** Default: services.config.windows. */
  windows?: WindowSettings[];
  /** Default: a ConfigMap in the bot's namespace when there is a cluster (not in terminal mode), else memory. */
  store?: WindowStateStore;
  /** Default: a SilencesClient on ALERTMANAGER_URL, when it is set. */
  silences?: WindowSilences;
  /** Default: GET /api/v2/alerts on ALERTMANAGER_URL, when it is set. */
  firingAlerts?: FiringAlertsSource;
  /** Where escalations go in the alerts' own threads. Default: the bot's Slack poster. */
  threads?: AlertThreads;
  /** Where summaries go. Default: the bot's Slack poster. */
  poster?: SummaryPoster;
  /** Default: VolSync mover pods from services.kube (app.ts passes the bot's one mover lookup). */
  movers?: MoverSource;
  now?: () => Date;
  /** Alert names a mute silence matches, for windows that do not set their own. */
  alertNames?: readonly string[];
}

/** A summary not posted this long after the grace end is dropped: nobody needs last week's news. */
const LATE_SUMMARY_MS = 12 * 3600_000;
const SUMMARY_ATTEMPTS = 3;
const SILENCE_HISTORY = 10;
/**
 * A mute window whose silence cannot be made (Alertmanager down) is retried this soon, doubling
 * up to the cap, until it works or the window ends; the 5-minute safety tick alone would leave
 * the transient pods paging for minutes after Alertmanager is back.
 */
const SILENCE_RETRY_FIRST_MS = 5_000;
const SILENCE_RETRY_MAX_MS = 60_000;

interface Live {
  w: WindowSettings;
  inst: WindowInstance;
}

export function defaultWindowStore(services: Services, now?: () => Date): WindowStateStore {
  const kube = services.kube;
  // The terminal is someone trying commands on a laptop: it must not write the bot's shared state.
  if (kube && services.config.env.mode !== 'terminal') return new ConfigMapWindowStore(kube, { namespace: botNamespace(kube), now });
  return new MemoryWindowStore({ now });
}

export function defaultWindowSilences(services: Services): WindowSilences | undefined {
  const url = services.config.env.alertmanagerUrl;
  return url ? new SilencesClient({ baseUrl: url }) : undefined;
}

export class BackupWindowService {
  readonly windows: WindowSettings[];
  readonly store: WindowStateStore;
  readonly silences: WindowSilences | undefined;
  readonly now: () => Date;
  readonly hooks: AlertHooks;
  #services: Services;
  #log: Logger;
  #leadership: Leadership;
  #firing: FiringAlertsSource | undefined;
  #threads: AlertThreads | undefined;
  #poster: SummaryPoster | undefined;
  #movers: MoverSource | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #writes: Promise<void> = Promise.resolve();
  #silenceRetry: { failures: number; at: Date } | undefined;

  constructor(opts: BackupWindowServiceOptions) {
    const s = opts.services;
    this.#services = s;
    this.#log = s.log.child({ component: 'backup-window' });
    this.#leadership = s.leadership;
    this.now = opts.now ?? (() => new Date());
    this.windows = opts.windows ?? windowSettings(s.config.windows, opts.alertNames);
    this.store = opts.store ?? defaultWindowStore(s, this.now);
    this.silences = opts.silences ?? defaultWindowSilences(s);
    const amUrl = s.config.env.alertmanagerUrl;
    this.#firing = opts.firingAlerts ?? (amUrl ? alertmanagerFiringAlerts(amUrl) : undefined);
    this.#threads = opts.threads ?? (s.slack ? slackAlertThreads(s.slack.poster) : undefined);
    this.#poster = opts.poster ?? (s.slack ? slackSummaryPoster(s.slack.poster) : undefined);
    this.#movers = opts.movers ?? (s.kube ? kubeMoverSource(cachedMoverPods(s.kube)) : undefined);
    this.hooks = {
      annotate: (e) => this.annotate(e),
      observed: (e) => this.observe(e),
    };
  }

  /** The next instant something changes: a window opens or ends, or a grace period ends. */
  nextWakeAt(now: Date): Date | undefined {
    let next: number | undefined;
    const consider = (d: Date) => {
      if (d.getTime() > now.getTime() && (next === undefined || d.getTime() < next)) next = d.getTime();
    };
    if (this.#silenceRetry) consider(this.#silenceRetry.at);
    for (const w of this.windows) {
      try {
        consider(nextChangeAt(w, now));
        for (const inst of liveInstances(w, now)) consider(inst.graceEnd);
      } catch (err) {
        this.#log.error({ err, window: w.name }, 'cannot compute the window\'s next change');
      }
    }
    return next === undefined ? undefined : new Date(next);
  }

  /**
   * Brings windows, silences and summaries in line with the clock. Runs only on the leader; calls
   * that arrive while one runs are folded into one more run after it.
   */
  reconcile(reason = 'wake-up'): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        try {
          await this.#reconcileOnce(reason);
        } catch (err) {
          this.#log.error({ err, reason }, 'backup window reconcile failed; the next wake-up retries');
        }
      } while (this.#again);
    })().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Resolves when no reconcile is running. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Waits for the alert hooks' pending state writes (for shutdown and tests). */
  async flush(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.#writes;
      await seen;
    } while (seen !== this.#writes);
  }

  async #reconcileOnce(reason: string): Promise<void> {
    if (!this.#leadership.isLeader()) {
      this.#silenceRetry = undefined;
      return;
    }
    const now = this.now();
    const live: Live[] = this.windows.flatMap((w) => liveInstances(w, now).map((inst) => ({ w, inst })));
    this.#log.debug({ reason, live: live.map((l) => l.inst.id) }, 'backup window reconcile');

    let state = await this.store.update((st) => {
      for (const { w, inst } of live) ensureInstance(st, w, inst, now);
      return structuredClone(st);
    });

    const due = Object.values(state).filter((r) => isDue(r, now));
    const muteLive = live.filter((l) => l.w.mode === 'mute');
    let amNote: string | undefined;
    if (this.#firing && (due.length > 0 || muteLive.length > 0)) {
      try {
        // Without a name filter at close: the pipeline may treat other alert names as crash loops too.
        const firing = due.length > 0 ? await this.#firing.firing([]) : await this.#firing.firing(allAlertNames(this.windows));
        const dueIds = new Set(due.map((r) => r.id));
        const sampled = new Set([...muteLive.map((l) => l.inst.id), ...dueIds]);
        state = await this.store.update((st) => {
          for (const id of sampled) {
            const rec = st[id];
            if (!rec) continue;
            mergeMuted(rec, firing, now);
            if (dueIds.has(id) && !rec.summary) resolveGone(rec, firing, now);
          }
          return structuredClone(st);
        });
      } catch (err) {
        amNote = 'Alertmanager could not be asked for the alerts\' current state, so this list is from the alerts\' notifications only';
        this.#log.warn({ err: (err as Error).message }, 'backup window: cannot read alerts from Alertmanager');
      }
    }

    if (this.silences) {
      try {
        await this.#reconcileSilences(live, now);
        this.#silenceRetry = undefined;
      } catch (err) {
        const retry = this.#silencesFailed(muteLive.length > 0, now);
        this.#log.error(
          { err: (err as Error).message, ...(retry ? { attempt: retry.failures, retryAt: retry.at.toISOString() } : {}) },
          retry ? 'backup window: cannot reconcile silences; retrying with backoff while the window is open' : 'backup window: cannot reconcile silences; the next wake-up retries',
        );
      }
    } else if (muteLive.length > 0) {
      this.#log.warn({ windows: muteLive.map((l) => l.w.name) }, 'a mute window is open but ALERTMANAGER_URL is not set: nothing is muted');
    }

    for (const rec of due) {
      try {
        await this.#close(rec.id, now, amNote);
      } catch (err) {
        this.#log.error({ err, instance: rec.id }, 'backup window: closing failed; the next wake-up retries');
      }
    }
  }

  /** The retry after a failed silence reconcile: only while a mute window is open; an early extra wake-up keeps the schedule. */
  #silencesFailed(muteOpen: boolean, now: Date): { failures: number; at: Date } | undefined {
    const prev = this.#silenceRetry;
    if (!muteOpen) this.#silenceRetry = undefined;
    else if (!prev || now.getTime() >= prev.at.getTime()) {
      const failures = (prev?.failures ?? 0) + 1;
      this.#silenceRetry = { failures, at: new Date(now.getTime() + Math.min(SILENCE_RETRY_FIRST_MS * 2 ** (failures - 1), SILENCE_RETRY_MAX_MS)) };
    }
    return this.#silenceRetry;
  }

  async #reconcileSilences(live: Live[], now: Date): Promise<void> {
    const silences = this.silences!;
    const desired = live.filter((l) => l.w.mode === 'mute').map((l) => ({ ...l, cfg: configHash(l.w), marker: windowMarker(l.inst.id, configHash(l.w)) }));
    const ours = new Set(this.windows.map((w) => w.name));
    const owned = await silences.findOwned(WINDOW_MARKER_PREFIX);
    const kept = new Map<string, string>();
    const stale: Silence[] = [];
    for (const s of owned) {
      const m = parseWindowMarker(s.comment);
      // Another deployment's windows (or one removed from the configuration) are left to end by themselves.
      if (!m || !ours.has(m.window)) continue;
      const d = desired.find((x) => x.inst.id === m.instanceId && x.cfg === m.cfg);
      if (d && !kept.has(d.marker)) kept.set(d.marker, s.id);
      else stale.push(s);
    }
    const created: Array<{ id: string; instanceId: string; cfg: string }> = [];
    for (const d of desired) {
      const existing = kept.get(d.marker);
      if (existing) {
        created.push({ id: existing, instanceId: d.inst.id, cfg: d.cfg });
        continue;
      }
      const id = await silences.create(windowSilence(d.w, d.inst, now));
      this.#log.info({ window: d.w.name, instance: d.inst.id, silence: id, until: d.inst.graceEnd.toISOString() }, 'backup window: muted known-transient crash loops');
      created.push({ id, instanceId: d.inst.id, cfg: d.cfg });
    }
    // Expire only after the replacement exists, so a configuration change leaves no unmuted gap.
    for (const s of stale) {
      try {
        await silences.expire(s.id);
        this.#log.info({ silence: s.id, comment: s.comment.slice(-120) }, 'backup window: expired a silence (window closed, configuration changed, or duplicate)');
      } catch (err) {
        this.#log.warn({ silence: s.id, err: (err as Error).message }, 'backup window: cannot expire a silence');
      }
    }
    if (created.length > 0) {
      await this.store.update((st) => {
        for (const c of created) {
          const rec = st[c.instanceId];
          if (!rec) continue;
          if (rec.silence?.id !== c.id) rec.silence = { id: c.id, cfg: c.cfg, createdAt: now.toISOString() };
          rec.silenceIds = [...new Set([...(rec.silenceIds ?? []), c.id])].slice(-SILENCE_HISTORY);
        }
      });
    }
  }

  async #close(id: string, now: Date, amNote: string | undefined): Promise<void> {
    const late = (rec: InstanceState) => now.getTime() - new Date(rec.graceEnd).getTime() > LATE_SUMMARY_MS;
    // Claim the summary first: whoever writes the claim posts, nobody else (restarts, replicas).
    const claimed = await this.store.update((st) => {
      const rec = st[id];
      if (!rec || !isDue(rec, now)) return undefined;
      const attempts = rec.summary?.attempts ?? 0;
      if (late(rec)) {
        rec.summary = { state: 'skipped', at: now.toISOString(), note: 'the bot was not running when the window closed', attempts };
        rec.closedAt = now.toISOString();
        return undefined;
      }
      rec.summary = { state: 'posting', at: now.toISOString(), attempts: attempts + 1 };
      return structuredClone(rec);
    });
    if (!claimed) return;

    const w = this.windows.find((x) => x.name === claimed.window);
    const zone = claimed.zone;
    const channel = w?.channel ?? this.#services.config.alerts.channel;
    const escalate = this.#services.config.alerts.escalate;
    const canPost = Boolean(channel && this.#poster);
    let ts: string | undefined;
    if (canPost) {
      try {
        ts = (await this.#poster!.post(channel!, summaryReply({ instance: claimed, zone, escalate, mention: true, alertmanagerNote: amNote }))).ts;
      } catch (err) {
        const attempts = claimed.summary?.attempts ?? 1;
        await this.store.update((st) => {
          const rec = st[id];
          if (rec) rec.summary = { state: 'failed', at: now.toISOString(), attempts, note: (err as Error).message.slice(0, 200) };
        });
        this.#log.error({ err: (err as Error).message, instance: id, attempts }, attempts < SUMMARY_ATTEMPTS ? 'backup window: summary not posted; will retry' : 'backup window: summary not posted; giving up');
        return;
      }
    } else {
      this.#log.warn({ instance: id }, 'backup window closed but no channel to post its summary: set windows[].channel or alerts.channel');
    }

    const escalated: string[] = [];
    if (this.#threads) {
      for (const a of stillFiring(claimed)) {
        if (!a.channel || !a.threadTs || a.escalatedAt) continue;
        try {
          await this.#threads.postInThread(a.channel, a.threadTs, escalationReply(claimed, a, { zone, escalate, mention: !canPost, summaryChannel: channel }));
          escalated.push(a.fingerprint);
        } catch (err) {
          this.#log.error({ err: (err as Error).message, instance: id, fingerprint: a.fingerprint }, 'backup window: cannot post the escalation in the alert\'s thread');
        }
      }
    }
    await this.store.update((st) => {
      const rec = st[id];
      if (!rec) return;
      rec.summary = canPost
        ? { state: 'posted', at: now.toISOString(), channel, ts, attempts: claimed.summary?.attempts }
        : { state: 'skipped', at: now.toISOString(), note: 'no summary channel configured' };
      rec.closedAt = now.toISOString();
      for (const fp of escalated) {
        const a = rec.alerts[fp];
        if (a) a.escalatedAt = now.toISOString();
      }
    });
    this.#log.info({ instance: id, channel, ts, stillFiring: stillFiring(claimed).length, escalated: escalated.length }, 'backup window closed');
  }

  /** AlertHooks.annotate: the window's verdict on a crash-loop alert, first in its thread. */
  async annotate(e: CrashAlertEvent): Promise<Block[] | undefined> {
    if (e.status !== 'firing') return undefined;
    try {
      const at = e.receivedAt;
      const chosen = coveringInstance(this.windows, at, e.labels['pod'], e.labels['namespace']);
      if (!chosen) return undefined;
      const { transient } = chosen;
      const evidence: MoverEvidence = this.#movers
        ? await this.#movers.movers(at)
        : { checkedAt: at, running: [], pending: 0, error: 'no Kubernetes cluster is configured' };
      const blocks = annotationBlocks({ window: chosen.w, instance: chosen.inst, at, labels: e.labels, transient, evidence });
      this.#write((st) => {
        const rec = ensureInstance(st, chosen.w, chosen.inst, at);
        const a = upsertAlert(rec, e, chosen.w);
        if (a) a.annotated = { at: at.toISOString(), verdict: transient ? 'transient' : 'investigate' };
      });
      return blocks;
    } catch (err) {
      // The alert's thread must still be posted; it just goes without the window's note.
      this.#log.error({ err, fingerprint: e.fingerprint }, 'backup window: cannot annotate the alert');
      return undefined;
    }
  }

  /** AlertHooks.observed: remembers the alert for the summary of every instance it belongs to. */
  observe(e: CrashAlertEvent): void {
    const at = e.receivedAt;
    const live = this.windows.flatMap((w) => liveInstances(w, at).map((inst) => ({ w, inst })));
    this.#write((st) => {
      const touched = new Set<string>();
      for (const { w, inst } of live) {
        upsertAlert(ensureInstance(st, w, inst, at), e, w);
        touched.add(inst.id);
      }
      // A resolution that arrives after the window ended, before its summary went out.
      for (const rec of Object.values(st)) {
        if (touched.has(rec.id) || rec.summary?.state === 'posted' || rec.summary?.state === 'posting' || !rec.alerts[e.fingerprint]) continue;
        const w = this.windows.find((x) => x.name === rec.window);
        if (w) upsertAlert(rec, e, w);
      }
    });
  }

  #write(change: (st: WindowsState) => void): void {
    this.#writes = this.#writes
      .then(() => this.store.update(change))
      .then(() => undefined)
      .catch((err: unknown) => {
        this.#log.error({ err: (err as Error).message }, 'backup window: cannot record an alert in the window state');
      });
  }
}

function isDue(rec: InstanceState, now: Date): boolean {
  if (new Date(rec.graceEnd).getTime() > now.getTime()) return false;
  if (!rec.summary) return true;
  return rec.summary.state === 'failed' && (rec.summary.attempts ?? 0) < SUMMARY_ATTEMPTS;
}

function allAlertNames(windows: readonly WindowSettings[]): string[] {
  return [...new Set(windows.flatMap((w) => [...w.alertNames]))];
}
