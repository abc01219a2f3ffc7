/**
 * One cluster-wide collection kept current by a list + watch (client-node's ListWatch), that keeps
 * itself alive. client-node reconnects on its own after a quiet watch times out (~30 s) or the
 * server closes it, but after an error (API server down, 403, a failed re-list) its informer stays
 * stopped: here it is restarted with exponential backoff and jitter, resuming from the last
 * resourceVersion (a 410 Gone makes client-node re-list). A missing CRD (404) is "absent", retried
 * slowly, so a CRD installed later is picked up.
 */
import { ListWatch } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesObject, ListPromise, Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { kubeErrorLine, statusCode } from './client.ts';
import { LineWatch } from './line-watch.ts';

export type WatchedListState = 'idle' | 'syncing' | 'synced' | 'failed' | 'absent' | 'stopped';

export interface WatchedListOptions<T extends KubernetesObject> {
  /** For logs and messages: "ReplicationSources". */
  what: string;
  kc: KubeConfig;
  /** Watch path, e.g. /apis/volsync.backube/v1alpha1/replicationsources. */
  path: string;
  /** The list the watch continues from; same selector as `labelSelector`. */
  list: ListPromise<T>;
  labelSelector?: string;
  log: Logger;
  backoff?: { initialMs?: number; maxMs?: number; absentMs?: number };
  /** For tests: the watch implementation (default: LineWatch). */
  watch?: Pick<Watch, 'watch'>;
}

/**
 * Drops metadata.managedFields, which the bot never reads: server-side apply bookkeeping that is
 * often the largest part of an object (one entry per field manager, and VolSync and kubectl both
 * write), kept for every cached object otherwise.
 */
function trim<T extends KubernetesObject>(obj: T): T {
  if (obj?.metadata?.managedFields) delete obj.metadata.managedFields;
  return obj;
}

export class WatchedList<T extends KubernetesObject> {
  readonly what: string;
  #opts: WatchedListOptions<T>;
  #informer: ListWatch<T>;
  #state: WatchedListState = 'idle';
  #lastError: string | undefined;
  #errorCode: number | undefined;
  #errors = 0;
  #failures = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #waiters: Array<() => void> = [];
  #syncedAt: number | undefined;
  #restarts = 0;
  #listeners = new Set<() => void>();

  constructor(opts: WatchedListOptions<T>) {
    this.what = opts.what;
    this.#opts = opts;
    // What is cached is trimmed on the way in, from the first list and from every watch event.
    const list: ListPromise<T> = async () => {
      const listed = await opts.list();
      for (const item of listed.items) trim(item);
      return listed;
    };
    const inner = opts.watch ?? new LineWatch(opts.kc);
    const watch = {
      watch: (path, params, callback, done) => inner.watch(path, params, (phase, obj, raw) => {
        callback(phase, trim(obj as T), raw);
        this.#changed();
      }, done),
    } satisfies Pick<Watch, 'watch'>;
    this.#informer = new ListWatch<T>(opts.path, watch as Watch, list, false, opts.labelSelector);
    this.#informer.on('error', (err: unknown) => this.#onError(err));
  }

  get state(): WatchedListState {
    return this.#state;
  }

  /** Why the last (re)start failed, as one line; undefined while healthy. */
  get lastError(): string | undefined {
    return this.#state === 'synced' ? undefined : this.#lastError;
  }

  /** HTTP status of the last failure, when there was one. */
  get errorCode(): number | undefined {
    return this.#errorCode;
  }

  /** When the collection was last (re)synchronised: list or watch re-established. */
  get syncedAt(): number | undefined {
    return this.#syncedAt;
  }

  /** How many times the informer was restarted after an error. */
  get restarts(): number {
    return this.#restarts;
  }

  get synced(): boolean {
    return this.#state === 'synced';
  }

  /** True once the first attempt has an outcome (synced, failed or absent). */
  get settled(): boolean {
    return this.#syncedAt !== undefined || this.#errors > 0;
  }

  start(): void {
    if (this.#state !== 'idle' && this.#state !== 'stopped') return;
    void this.#run();
  }

  async stop(): Promise<void> {
    this.#state = 'stopped';
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    await this.#informer.stop();
    this.#wake();
  }

  list(namespace?: string): readonly T[] {
    return this.#informer.list(namespace);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#informer.get(name, namespace);
  }

  /**
   * `listener` is called after every change the watch applies, and after each (re)sync; returns
   * the unsubscribe. Synchronous and cheap callers only (the backup watch debounces).
   */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    for (const l of this.#listeners) {
      try {
        l();
      } catch (err) {
        this.#opts.log.warn({ what: this.what, err: (err as Error).message }, 'a change listener failed');
      }
    }
  }

  /** Resolves true once synced (or at once if it is), false when `timeoutMs` passes or it fails first. */
  whenSynced(timeoutMs: number): Promise<boolean> {
    if (this.#state === 'synced') return Promise.resolve(true);
    if (this.#state !== 'syncing') return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(this.#state === 'synced');
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      this.#waiters.push(done);
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  async #run(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'syncing';
    const errorsBefore = this.#errors;
    try {
      await this.#informer.start();
    } catch (err) {
      this.#onError(err);
    }
    if ((this.#state as WatchedListState) === 'stopped' || this.#errors !== errorsBefore) return;
    if (this.#failures > 0) this.#opts.log.info({ what: this.what, restarts: this.#restarts }, 'watch re-established');
    this.#errorCode = undefined;
    this.#state = 'synced';
    this.#syncedAt = Date.now();
    this.#wake();
    this.#changed();
  }

  #onError(err: unknown): void {
    this.#errors++;
    if (this.#state === 'stopped') return;
    const code = statusCode(err) ?? (err as { statusCode?: number })?.statusCode;
    this.#errorCode = code;
    this.#lastError = kubeErrorLine(err, `watch ${this.what}`);
    const absent = code === 404;
    const wasHealthy = this.#state === 'synced';
    this.#state = absent ? 'absent' : 'failed';
    // The backoff starts over only after a watch that lasted: one that breaks right after
    // connecting keeps backing off instead of hammering the API server.
    if (this.#syncedAt !== undefined && Date.now() - this.#syncedAt > 60_000) this.#failures = 0;
    this.#failures++;
    const b = this.#opts.backoff ?? {};
    const initial = b.initialMs ?? 250;
    const max = b.maxMs ?? 30_000;
    const delay = absent ? (b.absentMs ?? 300_000) : Math.min(max, initial * 2 ** Math.min(this.#failures - 1, 16)) * (0.8 + Math.random() * 0.4);
    const level = wasHealthy || this.#failures === 1 ? 'warn' : 'debug';
    this.#opts.log[level]({ what: this.what, code, retryInMs: Math.round(delay), error: this.#lastError }, absent ? 'not installed; will look again later' : 'watch failed; restarting it');
    this.#wake();
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.#restarts++;
      void this.#run();
    }, delay);
    this.#restartTimer.unref();
  }
}
