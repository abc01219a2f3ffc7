/**
 * Who may do what. Read-only commands are open in the configured channels; mutating commands and
 * confirmations need an operator: a configured user ID or a member of a configured user group
 * (resolved with usergroups.users.list and cached, so a click does not wait on Slack each time).
 */
import type { Logger } from 'pino';
import type { Actor } from './command/context.ts';

export interface GroupResolver {
  /** Members of a Slack user group. */
  members(groupId: string): Promise<string[]>;
}

export interface AccessOptions {
  operators: { users: string[]; groups: string[] };
  channels: string[];
  /**
   * Where the bot itself posts buttons besides the command channels (alert channels, routes, window
   * summaries). A click from any other channel did not come from a message the bot posted there.
   */
  buttonChannels?: string[];
  groups?: GroupResolver;
  log: Logger;
  cacheMs?: number;
  now?: () => number;
}

export class AccessControl {
  #opts: AccessOptions;
  #cache = new Map<string, { members: Set<string>; at: number }>();

  constructor(opts: AccessOptions) {
    this.#opts = opts;
  }

  /** True when commands may be answered in this channel (no list configured: everywhere). */
  channelAllowed(channel: string | undefined): boolean {
    const list = this.#opts.channels;
    return list.length === 0 || channel === undefined || list.includes(channel);
  }

  /** True when a button click may be answered in this channel: the command channels plus where alerts go. */
  buttonChannelAllowed(channel: string | undefined): boolean {
    const list = this.#opts.channels;
    return list.length === 0 || channel === undefined || list.includes(channel) || (this.#opts.buttonChannels ?? []).includes(channel);
  }

  channelHint(): string {
    return this.#opts.channels.map((c) => `<#${c}>`).join(', ');
  }

  async isOperator(actor: Actor): Promise<boolean> {
    // The person at the terminal runs with their own kube credentials: they are the operator.
    if (actor.via === 'terminal') return true;
    const { users, groups } = this.#opts.operators;
    if (users.includes(actor.id)) return true;
    for (const g of groups) {
      const members = await this.#groupMembers(g);
      if (members.has(actor.id)) return true;
    }
    return false;
  }

  /**
   * The one check every mutating command and every confirmation calls. Returns undefined when
   * allowed, else the line to show the user.
   */
  async checkOperator(actor: Actor): Promise<string | undefined> {
    if (await this.isOperator(actor)) return undefined;
    const { users, groups } = this.#opts.operators;
    if (users.length === 0 && groups.length === 0) {
      return 'No operators are configured, so nobody can run mutating commands. Add Slack user IDs or user groups under slack.operators in the bot\'s configuration.';
    }
    return 'Only operators can do that. Ask someone in the operators list, or have an admin add you under slack.operators.';
  }

  async #groupMembers(group: string): Promise<Set<string>> {
    const now = this.#opts.now?.() ?? Date.now();
    const cached = this.#cache.get(group);
    const ttl = this.#opts.cacheMs ?? 5 * 60_000;
    if (cached && now - cached.at < ttl) return cached.members;
    if (!this.#opts.groups) return new Set();
    try {
      const members = new Set(await this.#opts.groups.members(group));
      this.#cache.set(group, { members, at: now });
      return members;
    } catch (err) {
      this.#opts.log.warn({ err, group }, 'could not resolve user group members; using the last known list');
      return cached?.members ?? new Set();
    }
  }
}
