/**
 * Slash-command ack latency in HTTP mode at a fixed concurrency, against the floor measured in the
 * same run with the same load generator: a bare node:http server that only verifies the same
 * Slack signature and answers 200. Slack gives an app 3 s to ack; what matters here is the ratio.
 *
 *   npm run bench:ack -- [--requests 2000] [--concurrency 50] [--rounds 3] [--text "status"]
 *
 * Rounds alternate floor and bot so that drift on a shared machine hits both alike. The bot acks
 * before it runs the command, so after each of its rounds the bench waits until the Slack stand-in
 * has received every reply (one response_url post per request) before anything else is measured:
 * the deferred work never overlaps the floor's round, and the bot's CPU figure includes all of it.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE, ROOT, startBotProcess } from '../test/harness/bot-process.ts';
import { freePort } from '../test/harness/kube/free-port.ts';
import { startSlackStandIn } from '../test/harness/slack/slack-stand-in.ts';
import type { SlackStandIn } from '../test/harness/slack/slack-stand-in.ts';
import { benchFlags } from './args.ts';

const args = benchFlags({ numbers: { requests: 2000, concurrency: 50, rounds: 3 }, strings: { text: 'status' } });
const REQUESTS = args.requests;
const CONCURRENCY = args.concurrency;
const ROUNDS = args.rounds;
const BOT_TOKEN = 'xoxb-7100000001-7100000002-ackbenchbottoken00';
const SIGNING = 'ack-bench-signing-secret';

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

/** The reference, in its own process like the bot: verifies the signature exactly as the bot does, then answers 200. */
/**
 * CPU time (user + system) a process has used, in ms, from /proc (Linux; undefined elsewhere).
 * Less noisy than latency on a shared machine: it is what each request costs the process.
 */
function cpuMs(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** `fn`'s CPU cost to process `pid`, added to `total.ms` (NaN once unavailable). */
async function measuredCpu<T>(pid: number | undefined, total: { ms: number }, fn: () => Promise<T>): Promise<T> {
  const before = cpuMs(pid);
  const result = await fn();
  const after = cpuMs(pid);
  total.ms += before === undefined || after === undefined ? NaN : after - before;
  return result;
}

async function startFloor(): Promise<{ url: string; pid: number | undefined; close: () => Promise<void> }> {
  const child = spawn(NODE, [join(ROOT, 'bench/ack-floor.ts')], { env: { PATH: process.env.PATH, SLACK_SIGNING_SECRET: SIGNING }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      const m = /listening on (\d+)/.exec(b.toString());
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the floor server exited (${code})`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { url: `http://127.0.0.1:${port}/slack/events`, pid: child.pid, close: async () => { child.kill('SIGTERM'); await exited; } };
}

/** Sends `REQUESTS` signed slash commands, `CONCURRENCY` at a time, and returns each ack's latency. */
async function load(slack: SlackStandIn, url: string): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < REQUESTS) {
      next++;
      const ack = await slack.sendSlashCommandHttp({ url, text: args.text });
      if (ack.status === 200) latencies.push(ack.ackMs);
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  if (failed) throw new Error(`${failed} of ${REQUESTS} requests to ${url} were not acked 200`);
  return latencies.sort((a, b) => a - b);
}

/**
 * Waits until every one of `requests` commands got its reply through its response_url, and none
 * was answered "busy" in the ack body instead; throws naming what is missing.
 */
async function allReplied(slack: SlackStandIn, requests: number, timeoutMs = 60_000): Promise<string> {
  const replies = () => slack.responses().filter((r) => r.via === 'response_url' && r.status === 200).length;
  const deadline = Date.now() + timeoutMs;
  while (replies() < requests && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const got = replies();
  const inAck = slack.responses().filter((r) => r.via === 'ack').length;
  if (got !== requests) throw new Error(`replies: ${got}/${requests} within ${timeoutMs} ms; ${requests - got} commands got no reply`);
  if (inAck) throw new Error(`${inAck} of ${requests} commands were answered in the ack body (the bot only does that when it is too busy to run them)`);
  return `replies: ${got}/${requests}`;
}

async function main(): Promise<void> {
  const slack = await startSlackStandIn({ botToken: BOT_TOKEN, signingSecret: SIGNING, postMessagePerSecondPerChannel: Infinity });
  const floor = await startFloor();
  const port = await freePort();
  const bot = await startBotProcess({
    SLACK_MODE: 'http', SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING, SLACK_API_URL: slack.apiUrl, PORT: String(port), LOG_LEVEL: 'info',
  });
  try {
    await bot.waitForLine(/authenticated with Slack|listening/, 30_000);
    const botUrl = `${bot.url}/slack/events`;
    // Warm both (JIT, keep-alive sockets) before anything is measured.
    for (const url of [floor.url, botUrl]) for (let i = 0; i < 200; i++) await slack.sendSlashCommandHttp({ url, text: args.text });
    await allReplied(slack, 200);
    slack.reset();
    const floorAll: number[] = [];
    const botAll: number[] = [];
    // The bot's figure includes what it does after the ack (the command and its reply), as it must.
    const floorCpu = { ms: 0 };
    const botCpu = { ms: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      floorAll.push(...(await measuredCpu(floor.pid, floorCpu, () => load(slack, floor.url))));
      slack.reset();
      let replied = '';
      botAll.push(...(await measuredCpu(bot.child.pid, botCpu, async () => {
        const latencies = await load(slack, botUrl);
        replied = await allReplied(slack, REQUESTS);
        return latencies;
      })));
      console.log(`round ${r + 1}: bot ${replied}`);
      slack.reset();
    }
    floorAll.sort((a, b) => a - b);
    botAll.sort((a, b) => a - b);
    console.log(`ack: ${ROUNDS} rounds × ${REQUESTS} signed \`/backup ${args.text}\` at ${CONCURRENCY} concurrent, HTTP mode, loopback`);
    for (const [name, q] of [['p50', 0.5], ['p99', 0.99]] as const) {
      const b = quantile(botAll, q);
      const f = quantile(floorAll, q);
      console.log(`ack ${name}`.padEnd(10), `bot ${b} ms`.padEnd(14), `floor ${f} ms`.padEnd(16), `ratio ${(b / f).toFixed(2)} (target p99 ≤ 1.20)`);
    }
    const per = (c: { ms: number }, n: number) => c.ms / n;
    const botPer = per(botCpu, botAll.length);
    const floorPer = per(floorCpu, floorAll.length);
    if (Number.isFinite(botPer) && Number.isFinite(floorPer)) {
      console.log('cpu/req'.padEnd(10), `bot ${botPer.toFixed(2)} ms`.padEnd(14), `floor ${floorPer.toFixed(2)} ms`.padEnd(16), `ratio ${(botPer / floorPer).toFixed(2)} (the bot's includes the command and its reply after the ack)`);
    }
  } finally {
    await bot.stop();
    await floor.close();
    await slack.close();
  }
}

await main();
