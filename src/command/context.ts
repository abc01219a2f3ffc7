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
import { escapeMrkdwn } from '../reply.ts';

/** Someone a reply names: the actor, a requester from a confirmation, an approver. */
export interface Person {
  id: string;
  name?: string;
}

/** A person's time zone, and where it came from. */
export interface UserZone {
  zone: string;
  /** Where it came from, for the reply: "your Slack profile", "this machine". */
  source: string;
  /** Why the zone is only a fallback, when it is. */
  note?: string;
}

/**
 * Who is asking. In the terminal this is the local user, acting as an operator with their own kube
 * credentials. The transport that made the actor sets the facts a handler needs to render for it,
 * so handlers never branch on `via` to render.
 */
export interface Actor {
  id: string;
  name?: string;
  via: 'slack' | 'terminal';
  /** How a reply on this transport names `person` (default: this actor): `<@U…>` in Slack. */
  mention?: (person?: Person) => string;
  /** The person's time zone as the transport knows it (their Slack profile, the machine's zone). */
  timeZone?: () => Promise<UserZone>;
  /** Whether the transport shows Block Kit buttons the person can click (Slack yes, terminal no). */
  buttons?: boolean;
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

/**
 * `person` (default: the actor) as a reply to `actor` names them. Actors made outside a transport
 * (tests, scripts) get the transport's rule by `via`.
 */
export function mention(actor: Actor, person: Person = actor): string {
  if (actor.mention) return actor.mention(person);
  return actor.via === 'slack' ? `<@${person.id}>` : escapeMrkdwn(person.name ?? person.id);
}

/** Whether replies to `actor` may carry buttons. */
export function showsButtons(actor: Actor): boolean {
  return actor.buttons ?? actor.via === 'slack';
}
