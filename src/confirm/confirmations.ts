/**
 * Confirmations for mutating actions: bound to the request (action, target, requester and a
 * digest of the evidence shown), answerable only while fresh, once, and by distinct operators
 * when two are needed. They are kept in the cluster (a ConfigMap, updated with optimistic
 * concurrency) so a bot restart or a second replica sees the same state, and a click cannot be
 * replayed against another replica.
 */
import { randomBytes } from 'node:crypto';
import type { Actor } from '../command/context.ts';
import { UserError } from '../errors.ts';
import type { Kube } from '../kube/client.ts';
import { ConfigMapData } from '../kube/configmap-data.ts';

export interface Approval {
  id: string;
  name?: string;
  at: string;
}

export interface ConfirmationRecord {
  id: string;
  action: string;
  target: string;
  requester: { id: string; name?: string; via: Actor['via'] };
  /** Digest of what the requester was shown (e.g. the lock IDs); an answer must carry the same one. */
  digest: string;
  createdAt: string;
  expiresAt: string;
  approvalsNeeded: 1 | 2;
  approvals: Approval[];
  state: 'pending' | 'approved' | 'cancelled';
  /** Small, non-secret facts the action needs when it runs. */
  data: Record<string, string>;
}

/** Where records live. `update` must be atomic: it applies `change` to the current record or fails. */
export interface ConfirmationStore {
  put(rec: ConfirmationRecord): Promise<void>;
  get(id: string): Promise<ConfirmationRecord | undefined>;
  update(id: string, change: (rec: ConfirmationRecord | undefined) => ConfirmationRecord): Promise<ConfirmationRecord>;
}

export class MemoryConfirmationStore implements ConfirmationStore {
  #records = new Map<string, ConfirmationRecord>();
  async put(rec: ConfirmationRecord) {
    this.#records.set(rec.id, structuredClone(rec));
  }
  async get(id: string) {
    const r = this.#records.get(id);
    return r && structuredClone(r);
  }
  async update(id: string, change: (rec: ConfirmationRecord | undefined) => ConfirmationRecord) {
    const next = change(await this.get(id));
    this.#records.set(id, structuredClone(next));
    return structuredClone(next);
  }
}

/**
 * One ConfigMap holds the pending confirmations; writes are optimistic (src/kube/configmap-data.ts),
 * so two replicas answering the same click cannot both win. Expired records are pruned on every write.
 */
export class ConfigMapConfirmationStore implements ConfirmationStore {
  #cm: ConfigMapData;
  #now: () => Date;

  constructor(kube: Kube, opts: { namespace: string; name?: string; now?: () => Date }) {
    this.#cm = new ConfigMapData(kube, { namespace: opts.namespace, name: opts.name ?? 'backup-bot-confirmations' });
    this.#now = opts.now ?? (() => new Date());
  }

  async put(rec: ConfirmationRecord): Promise<void> {
    await this.#cm.update((data) => {
      this.#prune(data);
      data[rec.id] = JSON.stringify(rec);
    });
  }

  async get(id: string): Promise<ConfirmationRecord | undefined> {
    const raw = (await this.#cm.read())[id];
    return raw ? (JSON.parse(raw) as ConfirmationRecord) : undefined;
  }

  async update(id: string, change: (rec: ConfirmationRecord | undefined) => ConfirmationRecord): Promise<ConfirmationRecord> {
    return this.#cm.update((data) => {
      this.#prune(data);
      const raw = data[id];
      const result = change(raw ? (JSON.parse(raw) as ConfirmationRecord) : undefined);
      data[id] = JSON.stringify(result);
      return result;
    });
  }

  #prune(data: Record<string, string>): void {
    const now = this.#now().getTime();
    for (const [k, v] of Object.entries(data)) {
      try {
        // Keep answered records a day for the audit trail of replays; drop the rest once expired.
        if (new Date((JSON.parse(v) as ConfirmationRecord).expiresAt).getTime() + 24 * 3600_000 < now) delete data[k];
      } catch {
        delete data[k];
      }
    }
  }
}

export interface CreateConfirmation {
  action: string;
  target: string;
  requester: Actor;
  digest?: string;
  approvalsNeeded?: 1 | 2;
  data?: Record<string, string>;
}

export type ApproveResult = { status: 'approved'; record: ConfirmationRecord } | { status: 'waiting'; record: ConfirmationRecord };

export class Confirmations {
  #store: ConfirmationStore;
  #ttlMs: number;
  #now: () => Date;

  constructor(opts: { store: ConfirmationStore; ttlMs: number; now?: () => Date }) {
    this.#store = opts.store;
    this.#ttlMs = opts.ttlMs;
    this.#now = opts.now ?? (() => new Date());
  }

  get ttlMinutes(): number {
    return Math.round(this.#ttlMs / 60_000);
  }

  async create(input: CreateConfirmation): Promise<ConfirmationRecord> {
    const now = this.#now();
    const rec: ConfirmationRecord = {
      id: randomBytes(16).toString('base64url'),
      action: input.action,
      target: input.target,
      requester: { id: input.requester.id, name: input.requester.name, via: input.requester.via },
      digest: input.digest ?? '',
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.#ttlMs).toISOString(),
      approvalsNeeded: input.approvalsNeeded ?? 1,
      approvals: [],
      state: 'pending',
      data: input.data ?? {},
    };
    await this.#store.put(rec);
    return rec;
  }

  /**
   * Records `actor`'s approval. The caller has already checked that the actor is an operator.
   * Throws a UserError saying why when the token is unknown, altered, expired, already answered,
   * or when the same person tries to approve twice.
   */
  async approve(id: string, actor: Actor, expect: { action: string; digest?: string }): Promise<ApproveResult> {
    if (!/^[A-Za-z0-9_-]{10,64}$/.test(id)) throw new UserError('That confirmation is not valid. Run the command again.', 'invalid');
    const now = this.#now();
    let waiting = false;
    const record = await this.#store.update(id, (rec) => {
      if (!rec) throw new UserError('That confirmation is unknown (or from another cluster). Run the command again.', 'invalid');
      if (rec.action !== expect.action || (expect.digest !== undefined && rec.digest !== expect.digest)) {
        throw new UserError('That confirmation does not match this request. Nothing was done; run the command again.', 'invalid');
      }
      if (rec.state === 'approved') {
        throw new UserError(`Already confirmed by ${rec.approvals.map((a) => `<@${a.id}>`).join(' and ')}: a confirmation works once. Nothing more was done.`, 'invalid');
      }
      if (rec.state === 'cancelled') throw new UserError('That request was cancelled. Run the command again if it is still needed.', 'invalid');
      if (new Date(rec.expiresAt).getTime() <= now.getTime()) {
        throw new UserError(`That confirmation expired at ${rec.expiresAt.slice(11, 16)} UTC. Nothing was done; run the command again to see fresh evidence.`, 'expired');
      }
      if (rec.approvals.some((a) => a.id === actor.id)) {
        throw new UserError('You have already approved this. A second, different operator must approve it too.', 'invalid');
      }
      const approvals = [...rec.approvals, { id: actor.id, name: actor.name, at: now.toISOString() }];
      waiting = approvals.length < rec.approvalsNeeded;
      return { ...rec, approvals, state: waiting ? 'pending' : 'approved' };
    });
    return waiting ? { status: 'waiting', record } : { status: 'approved', record };
  }

  async cancel(id: string, actor: Actor): Promise<ConfirmationRecord> {
    return this.#store.update(id, (rec) => {
      if (!rec) throw new UserError('That confirmation is unknown. Nothing to cancel.', 'invalid');
      if (rec.state !== 'pending') throw new UserError(`That request is already ${rec.state}.`, 'invalid');
      return { ...rec, state: 'cancelled', data: { ...rec.data, cancelledBy: actor.id } };
    });
  }

  get(id: string): Promise<ConfirmationRecord | undefined> {
    return this.#store.get(id);
  }
}
