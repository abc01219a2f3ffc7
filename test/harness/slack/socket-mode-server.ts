import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SlackRecords, SentEnvelope } from './records.ts';
import { envelopeId, urlToken } from './slack-ids.ts';

// Slack's side of Socket Mode (docs.slack.dev "Using Socket Mode"; message shapes as
// @slack/socket-mode's SocketModeClient reads them): apps.connections.open hands out a one-use
// wss URL, the server greets each connection with `hello`, pushes envelopes and waits up to 3 s
// for `{envelope_id, payload?}` acks, and asks clients to reconnect with `disconnect` messages.

export const SOCKET_PATH = '/socket';
export const ACK_TIMEOUT_MS = 3000;

export interface SocketAck {
  envelope_id: string;
  payload?: unknown;
  /** Milliseconds from sending the envelope to receiving the ack. */
  ackMs: number;
}

export interface DisconnectOptions {
  /** Slack sends `refresh_requested`, `warning` or `too_many_websockets`. */
  reason?: string;
  /**
   * `message` (default): send the disconnect message and let the client close (force-closed after
   * `graceMs`); `close`: close frame without a message; `terminate`: drop the TCP connection.
   */
  how?: 'message' | 'close' | 'terminate';
  graceMs?: number;
}

interface Connection {
  ws: WebSocket;
  id: number;
  openedAt: number;
}

interface Pending {
  resolve: (ack: SocketAck) => void;
  reject: (e: Error) => void;
  sentAt: number;
  envelope: SentEnvelope;
}

export class SocketModeServer {
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #tickets = new Set<string>();
  readonly #open = new Map<number, Connection>();
  readonly #pending = new Map<string, Pending>();
  readonly #records: SlackRecords;
  readonly #appId: string;
  readonly #timers = new Set<NodeJS.Timeout>();
  #pingTimer: NodeJS.Timeout | undefined;
  #nextId = 1;
  /** Connections that completed the hello, ever (reconnects included). */
  connectionsEver = 0;
  ackTimeoutMs = ACK_TIMEOUT_MS;

  constructor(records: SlackRecords, appId: string, pingIntervalMs = 0) {
    this.#records = records;
    this.#appId = appId;
    if (pingIntervalMs > 0) {
      // Slack pings its clients; @slack/socket-mode reconnects when pings stop arriving.
      this.#pingTimer = setInterval(() => {
        for (const c of this.#open.values()) c.ws.ping();
      }, pingIntervalMs);
      this.#pingTimer.unref();
    }
  }

  /** A fresh one-use URL, as apps.connections.open returns. */
  issueUrl(origin: string): string {
    const ticket = urlToken();
    this.#tickets.add(ticket);
    return `${origin.replace(/^http/, 'ws')}${SOCKET_PATH}?ticket=${ticket}&app_id=${this.#appId}`;
  }

  get openConnections(): number {
    return this.#open.size;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ticket = url.searchParams.get('ticket');
    if (url.pathname !== SOCKET_PATH || ticket === null || !this.#tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws));
  }

  #onConnection(ws: WebSocket): void {
    const c: Connection = { ws, id: this.#nextId++, openedAt: Date.now() };
    this.#open.set(c.id, c);
    ws.on('close', () => {
      this.#open.delete(c.id);
      this.#records.changed();
    });
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      this.#onMessage(data.toString());
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.#open.size,
        debug_info: { host: 'applink-standin-1', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: this.#appId },
      }),
    );
    this.connectionsEver += 1;
    this.#records.changed();
  }

  #onMessage(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const id = (msg as Record<string, unknown>)['envelope_id'];
    if (typeof id !== 'string') return;
    const pending = this.#pending.get(id);
    if (pending === undefined) return; // late or duplicate ack: Slack ignores it too
    this.#pending.delete(id);
    const payload = (msg as Record<string, unknown>)['payload'];
    const at = Date.now();
    pending.envelope.ack = { envelope_id: id, ...(payload === undefined ? {} : { payload }), at };
    this.#records.changed();
    pending.resolve({ envelope_id: id, ...(payload === undefined ? {} : { payload }), ackMs: at - pending.sentAt });
  }

  /** The newest open connection, waiting up to `waitMs` for one to appear. */
  async #connection(waitMs: number): Promise<Connection> {
    const newest = (): Connection | undefined => [...this.#open.values()].filter((c) => c.ws.readyState === c.ws.OPEN).at(-1);
    return this.#records.waitFor(newest, waitMs, 'an open Socket Mode connection (is the bot running in socket mode with SLACK_API_URL pointing at the stand-in?)');
  }

  /** Sends an envelope and resolves with the client's ack; rejects when none arrives in time. */
  async send(type: string, payload: Record<string, unknown>, opts: { acceptsResponsePayload?: boolean; timeoutMs?: number; extra?: Record<string, unknown> } = {}): Promise<SocketAck> {
    const c = await this.#connection(5000);
    const id = envelopeId();
    const timeoutMs = opts.timeoutMs ?? this.ackTimeoutMs;
    const envelope: SentEnvelope = { envelope_id: id, type, payload, sentAt: Date.now() };
    this.#records.envelopes.push(envelope);
    return new Promise<SocketAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (!this.#pending.delete(id)) return;
        reject(new Error(`Slack stand-in: no ack for ${type} envelope ${id} within ${timeoutMs} ms; Slack would show the user a timeout error. Call ack() before doing slow work.`));
      }, timeoutMs);
      this.#timers.add(timer);
      this.#pending.set(id, {
        resolve: (ack) => {
          clearTimeout(timer);
          this.#timers.delete(timer);
          resolve(ack);
        },
        reject: (e) => {
          clearTimeout(timer);
          this.#timers.delete(timer);
          reject(e);
        },
        sentAt: envelope.sentAt,
        envelope,
      });
      c.ws.send(JSON.stringify({ envelope_id: id, type, payload, accepts_response_payload: opts.acceptsResponsePayload ?? false, ...opts.extra }));
    });
  }

  disconnect(o: DisconnectOptions = {}): void {
    const how = o.how ?? 'message';
    for (const c of this.#open.values()) {
      if (how === 'terminate') {
        c.ws.terminate();
      } else if (how === 'close') {
        c.ws.close(1001, 'going away');
      } else {
        c.ws.send(JSON.stringify({ type: 'disconnect', reason: o.reason ?? 'refresh_requested', debug_info: { host: 'applink-standin-1' } }));
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          if (c.ws.readyState === c.ws.OPEN) c.ws.terminate();
        }, o.graceMs ?? 2000);
        this.#timers.add(timer);
      }
    }
  }

  /** Resolves once `n` connections have completed the hello since start (so reconnects count). */
  waitForConnections(n: number, timeoutMs = 15_000): Promise<number> {
    return this.#records.waitFor(() => (this.connectionsEver >= n ? this.connectionsEver : undefined), timeoutMs, `${n} Socket Mode connection(s)`);
  }

  async close(): Promise<void> {
    if (this.#pingTimer !== undefined) clearInterval(this.#pingTimer);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    // A clean close handshake first: bots that are shutting down (Bolt's stop() does not wait for
    // its socket to close) would otherwise log a WebSocket error.
    const closing = [...this.#open.values()].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.ws.readyState === c.ws.CLOSED) return resolve();
          c.ws.once('close', () => resolve());
          c.ws.close(1001, 'stand-in closing');
        }),
    );
    await Promise.race([Promise.all(closing), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    for (const c of this.#open.values()) c.ws.terminate();
    this.#open.clear();
    for (const p of this.#pending.values()) p.reject(new Error('Slack stand-in closed before the envelope was acked'));
    this.#pending.clear();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}
