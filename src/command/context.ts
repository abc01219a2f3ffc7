import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Reply } from '../reply.ts';
import type { AccessControl } from '../access.ts';
import type { AuditLog } from '../audit.ts';
import type { WebClient } from '@slack/web-api';
import type { ChannelPoster } from '../slack/poster.ts';
import type { Kube } from '../kube/client.ts';
import type { Confirmations } from '../confirm/confirmations.ts';
import type { Leadership } from '../leader.ts';
import type { ConfirmationRecord } from '../confirm/confirmations.ts';

/** Who is asking. In the terminal this is the local user, acting as an operator with their own kube credentials. */
export interface Actor {
  id: string;
  name?: string;
  via: 'slack' | 'terminal';
}

/**
 * The engines a handler may use. Later capabilities add optional members here; a handler whose
 * engine is missing answers that it is not configured, it does not crash.
 */
export interface Services {
  config: Config;
  log: Logger;
  access: AccessControl;
  audit: AuditLog;
  /** The cluster, when a kubeconfig or in-cluster service account was found. */
  kube?: Kube;
  /** Single-use, expiring confirmations for mutating actions (kept in the cluster when there is one). */
  confirmations: Confirmations;
  /** Whether this replica runs schedules (src/leader.ts). */
  leadership: Leadership;
  /** Present when a Slack transport runs (absent in the terminal mode). */
  slack?: { client: WebClient; poster: ChannelPoster };
}

export interface CommandContext {
  actor: Actor;
  /** Slack channel the command came from; undefined in the terminal. */
  channel?: string;
  services: Services;
  now: () => Date;
  /**
   * Posts a later message about this command (a sync finished, an unlock ran): in Slack into the
   * thread of the command's message, in the terminal to standard output.
   */
  notify: (r: Reply) => Promise<void>;
}

/** A click on a button, or an answer at the terminal prompt. */
export interface ActionInput {
  actionId: string;
  value: string;
  actor: Actor;
  channel?: string;
  /** The message the button was on, and its thread, when known. */
  messageTs?: string;
  threadTs?: string;
}

export interface ActionResult {
  /** Replaces the message the button was on (so a used button disappears). */
  replace?: Reply;
  /** Posted into the message's thread. */
  thread?: Reply[];
  /** Shown only to the person who clicked. */
  ephemeral?: Reply;
}

/**
 * What the framework found when the button answers a confirmation: the approval (or the
 * cancellation) is recorded before the handler runs, and `requester` is who asked for it.
 */
export interface Answer {
  status: 'approved' | 'waiting' | 'cancelled';
  record: ConfirmationRecord;
  requester: Actor;
}

export type ActionHandler = (input: ActionInput, ctx: CommandContext, answer?: Answer) => Promise<ActionResult>;
