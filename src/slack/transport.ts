/**
 * The Slack side of the bot: Bolt in Socket Mode or HTTP mode, the two slash commands and the
 * buttons. Listeners ack at once (Slack's 3-second limit), then do the work and deliver the reply
 * through response_url (ephemeral) or as a channel message that later updates can thread under.
 */
import { App, SocketModeReceiver } from '@slack/bolt';
import type { Receiver } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { CommandSet } from '../command/dispatch.ts';
import { dispatch, dispatchAction } from '../command/dispatch.ts';
import { SlackUserZones } from './user-zones.ts';
import type { Actor, CommandContext, Services } from '../command/context.ts';
import type { Reply } from '../reply.ts';
import { errorReply } from '../reply.ts';
import type { HttpServer } from '../http/server.ts';
import type { Metrics } from '../metrics.ts';
import { renderBlocks } from './render-blocks.ts';
import { VerifiedHttpReceiver } from './http-receiver.ts';
import { slackLogger } from './bolt-logger.ts';
import { webClientOptions } from './web-client.ts';
import { ChannelPoster } from './poster.ts';
import { isResponseUrl, retryingRespond } from './respond.ts';
import type { Respond } from './respond.ts';

export interface SlackTransport {
  app: App;
  client: WebClient;
  poster: ChannelPoster;
  /** undefined when connected and authenticated, else why not (for /readyz). */
  notReady(): string | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface SlackTransportOptions {
  config: Config;
  log: Logger;
  server: HttpServer;
  metrics: Metrics;
  commands: CommandSet;
  services: Omit<Services, 'slack'>;
}

export function createSlackTransport(opts: SlackTransportOptions): SlackTransport {
  const { config, log, server, metrics } = opts;
  const env = config.env;
  const clientOptions = webClientOptions({ slackApiUrl: env.slackApiUrl, log });
  let connected = env.mode === 'http';
  let authenticated = false;
  let receiver: Receiver;
  if (env.mode === 'socket') {
    const socket = new SocketModeReceiver({
      appToken: env.appToken!,
      logger: slackLogger(log),
      // SLACK_API_URL must reach the client that opens the WebSocket (apps.connections.open) too.
      installerOptions: { clientOptions },
      autoReconnectEnabled: true,
    });
    socket.client.on('connected', () => {
      connected = true;
      log.info('Socket Mode connected');
    });
    socket.client.on('disconnected', () => {
      connected = false;
      log.warn('Socket Mode disconnected; reconnecting');
    });
    receiver = socket;
  } else {
    receiver = new VerifiedHttpReceiver({ signingSecret: env.signingSecret!, server, log, metrics });
  }
  const app = new App({
    token: env.botToken,
    receiver,
    logger: slackLogger(log),
    clientOptions,
    // No conversation store: no listener reads context.conversation, and Bolt's default
    // MemoryStore builds and throws a "Conversation not found" Error for every event before it acks.
    convoStore: false,
    // auth.test runs in start() so a bad token is reported once, clearly, instead of at construction.
    deferInitialization: true,
  });
  if (env.mode === 'socket') ackEveryEnvelope(app);
  const poster = new ChannelPoster(app.client);
  const services: Services = { ...opts.services, slack: { client: app.client, poster } };
  // What a handler needs to render for a Slack user travels on the actor.
  const zones = new SlackUserZones(app.client, log);
  const slackActor = (id: string, name: string | undefined): Actor => ({
    id, via: 'slack', buttons: true,
    ...(name ? { name } : {}),
    mention: (person = { id }) => `<@${person.id}>`,
    timeZone: () => zones.of(id),
  });

  const contextFor = (actor: Actor, channel: string | undefined, respond: Respond, threadOf: () => string | undefined): CommandContext => ({
    actor,
    channel,
    services,
    now: () => new Date(),
    notify: async (r: Reply) => {
      const thread = threadOf();
      if (thread && channel) {
        await poster.post({ channel, thread_ts: thread, ...renderBlocks(r) });
      } else {
        await respond({ response_type: r.visibility === 'channel' ? 'in_channel' : 'ephemeral', replace_original: false, ...renderBlocks(r) });
      }
    },
  });

  /** A channel message (so a thread can follow); if the bot is not in the channel, the reply goes through response_url. */
  const postOrRespond = async (r: Reply, channel: string, respond: Respond): Promise<string | undefined> => {
    const rendered = renderBlocks(r);
    try {
      const res = await poster.post({ channel, ...rendered });
      return res.ts;
    } catch (err) {
      log.warn({ err: (err as Error).message, channel }, 'could not post to the channel; answering through response_url instead (invite the bot to the channel to get threads)');
      await respond({ response_type: 'in_channel', replace_original: false, ...rendered });
      return undefined;
    }
  };

  /** Channel replies become real messages (so a thread can follow); the rest only the asker sees. */
  const deliver = async (r: Reply, channel: string | undefined, respond: Respond): Promise<string | undefined> => {
    if (r.visibility === 'channel' && channel) return postOrRespond(r, channel, respond);
    await respond({ response_type: 'ephemeral', ...renderBlocks(r) });
    return undefined;
  };

  for (const family of opts.commands.families) {
    app.command(family.command, async ({ command, ack, respond: boltRespond }) => {
      await ack();
      // Bolt gives no respond() to a command without a response_url (Slack always sends one).
      if (typeof boltRespond !== 'function' || !isResponseUrl(command.response_url)) {
        log.warn({ command: family.command }, 'a slash command arrived without a response_url; there is nowhere to answer it');
        return;
      }
      // Bolt's respond() tries once; a Slack 5xx, 429 or timeout would lose the reply.
      const respond = retryingRespond(command.response_url);
      const actor = slackActor(command.user_id, command.user_name);
      const channel = command.channel_id;
      // Slack always sends a string; anything else is treated as no text rather than failing the reply.
      const text = typeof command.text === 'string' ? command.text : '';
      let outcome = 'ok';
      try {
        if (!opts.services.access.channelAllowed(channel)) {
          outcome = 'channel-not-allowed';
          const verb = text.trim().split(/\s+/)[0] ?? '';
          const mutating = opts.commands.families.find((f) => f.command === command.command)?.verbs.find((v) => v.verb === verb)?.mutating;
          if (mutating) {
            opts.services.audit.record({ actor, action: `${command.command} ${verb}`, target: text.trim().slice(0, 200), channel, outcome: 'refused', detail: 'not a command channel (slack.channels)' });
          }
          await respond({ response_type: 'ephemeral', ...renderBlocks(errorReply(`I answer commands in ${opts.services.access.channelHint()} only.`)) });
          return;
        }
        let threadTs: string | undefined;
        const ctx = contextFor(actor, channel, respond, () => threadTs);
        const r = await dispatch(opts.commands, command.command, text, ctx);
        if (r.tone === 'error') outcome = 'error';
        threadTs = await deliver(r, channel, respond);
        for (const part of r.followUps ?? []) await ctx.notify(part);
      } catch (err) {
        outcome = 'failed';
        log.error({ err, command: command.command }, 'could not deliver a command reply');
      } finally {
        const verb = text.trim().split(/\s+/)[0]?.slice(0, 20) || 'help';
        metrics.commands.inc({ command: command.command, verb: /^[a-z-]+$/.test(verb) ? verb : 'invalid', outcome });
      }
    });
  }

  app.action(/^bb:/, async ({ ack, body, respond: boltRespond }) => {
    await ack();
    if (body.type !== 'block_actions') return;
    const action = body.actions[0];
    if (!action || action.type !== 'button') return;
    // Slack always sends a user and a response_url with a click; without them nothing could be
    // checked or reported, so nothing is run.
    if (typeof boltRespond !== 'function' || !isResponseUrl(body.response_url) || typeof body.user?.id !== 'string') {
      log.warn({ actionId: String(action.action_id).slice(0, 60) }, 'a button click arrived without a user or a response_url; ignored');
      return;
    }
    const respond = retryingRespond(body.response_url);
    const actor = slackActor(body.user.id, body.user.name ?? body.user.username);
    const channel = body.channel?.id;
    // A button on an ephemeral reply (a /restic locks answer) has no message others can thread under.
    const ephemeral = (body.container as { is_ephemeral?: boolean } | undefined)?.is_ephemeral === true;
    const message = ephemeral ? undefined : (body.message as { ts?: string; thread_ts?: string } | undefined);
    let threadTs = message?.thread_ts ?? message?.ts;
    const actionId = action.action_id.replace(/#\d+$/, '');
    if (!opts.services.access.buttonChannelAllowed(channel)) {
      // The bot posts its buttons only in its command and alert channels: a click from elsewhere is refused before any handler runs.
      opts.services.audit.record({ actor, action: actionId.slice(0, 60), target: 'button', channel, outcome: 'refused', detail: 'not a channel the bot posts buttons in (slack.channels, alerts)' });
      await respond({ response_type: 'ephemeral', replace_original: false, ...renderBlocks(errorReply(`I answer buttons in ${opts.services.access.channelHint()} and the alert channels only. Nothing was done.`)) }).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not answer a refused click'));
      return;
    }
    const ctx = contextFor(actor, channel, respond, () => threadTs);
    const result = await dispatchAction(opts.commands, {
      actionId,
      value: action.value ?? '',
      actor,
      channel,
      messageTs: message?.ts,
      threadTs: message?.thread_ts,
    }, ctx);
    try {
      if (result.replace) await respond({ replace_original: true, ...renderBlocks(result.replace) });
      for (const r of result.thread ?? []) {
        // Without a message to thread under, the first reply becomes the message later ones thread under.
        if (threadTs === undefined && r.visibility === 'channel' && channel) threadTs = await postOrRespond(r, channel, respond);
        else await ctx.notify(r);
      }
      if (result.ephemeral) await respond({ response_type: 'ephemeral', replace_original: false, ...renderBlocks(result.ephemeral) });
    } catch (err) {
      log.error({ err, actionId: action.action_id }, 'could not deliver an action result');
    }
  });

  app.error(async (err) => {
    log.error({ err }, 'unhandled Slack listener error');
  });

  return {
    app,
    client: app.client,
    poster,
    notReady: () => (!authenticated ? 'Slack authentication has not succeeded yet' : !connected ? 'Socket Mode is not connected' : undefined),
    async start() {
      await app.init();
      const auth = await app.client.auth.test();
      authenticated = Boolean(auth.ok);
      log.info({ team: auth.team, botUser: auth.user_id, mode: env.mode }, 'authenticated with Slack');
      await app.start();
    },
    async stop() {
      await app.stop().catch((err: unknown) => log.warn({ err }, 'error while stopping Slack'));
    },
  };
}

/**
 * Bolt leaves a Socket Mode envelope it cannot type (so no listener can match it) unacknowledged,
 * and Slack then retries it or shows the user an error. Every envelope gets an ack: the listener's
 * own when it acks, else an empty one once processing is over. (HTTP mode does the same in
 * VerifiedHttpReceiver.)
 */
function ackEveryEnvelope(app: App): void {
  const processEvent = app.processEvent.bind(app);
  app.processEvent = async (event) => {
    let acked = false;
    const ack = event.ack;
    try {
      await processEvent({ ...event, ack: async (response?: unknown) => { acked = true; await ack(response); } });
    } finally {
      if (!acked) await ack();
    }
  };
}
