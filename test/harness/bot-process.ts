/**
 * Starts the real bot (`node src/main.ts`, exactly what `npm start` runs) as a child process on a
 * free port, and collects its log lines, so integration tests drive it the way Slack does.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { noteLogLines, noteSecretEnv } from './secrets-scan.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NODE = process.execPath;

export interface BotProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Everything the process wrote, stdout and stderr, as lines. */
  lines: string[];
  output(): string;
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<number | null>;
}

/**
 * Environment for a child bot: only what we pass, plus PATH/HOME, so the developer's tokens never
 * leak in. `undefined` keeps the default, `null` removes the variable.
 */
export function botEnv(extra: Record<string, string | undefined | null>): NodeJS.ProcessEnv {
  // No cluster unless a test passes KUBECONFIG: the developer's own kube context must not leak in.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', LOG_LEVEL: 'debug', NODE_NO_WARNINGS: '1', KUBECONFIG: '/nonexistent/backup-bot-test-kubeconfig' };
  for (const [k, v] of Object.entries(extra)) {
    if (v === null) delete env[k];
    else if (v !== undefined) env[k] = v;
  }
  return env;
}

/**
 * The bot's config file (BACKUP_BOT_CONFIG): `config` as YAML in a fresh temp dir named after `prefix`.
 * The backup watch is off unless `config.watch` says otherwise: test files share one API server, and a
 * bot started to test something else must not post incidents about another file's broken sources.
 */
export function writeBotConfig(prefix: string, config: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(tmpdir(), `bb-${prefix}-`)), 'backup-bot.yaml');
  writeFileSync(file, stringify({ watch: { enabled: false }, ...config }));
  return file;
}

export async function startBotProcess(env: Record<string, string | undefined>, opts: { timeoutMs?: number } = {}): Promise<BotProcess> {
  noteSecretEnv(env);
  const child = spawn(NODE, [join(ROOT, 'src/main.ts')], { cwd: ROOT, env: botEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  const onData = (buf: Buffer) => {
    noteLogLines(buf.toString('utf8').split('\n').filter(Boolean));
    for (const line of buf.toString('utf8').split('\n')) {
      if (!line) continue;
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const waitForLine = (re: RegExp, timeoutMs = 30_000) => {
    const found = lines.find((l) => re.test(l));
    if (found) return Promise.resolve(found);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bot did not log ${re} within ${timeoutMs} ms; output:\n${lines.join('\n')}`)), timeoutMs);
      waiters.push({ re, resolve: (l) => { clearTimeout(timer); resolve(l); } });
      void exited.then((code) => { clearTimeout(timer); reject(new Error(`bot exited (${code}) before logging ${re}; output:\n${lines.join('\n')}`)); });
    });
  };

  const listening = await waitForLine(/backup-bot listening/, opts.timeoutMs ?? 60_000);
  const port = (JSON.parse(listening) as { port: number }).port;
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    lines,
    output: () => lines.join('\n'),
    waitForLine,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs the terminal mode with `input` piped to standard input. */
export async function runTerminalProcess(input: string, env: Record<string, string | undefined | null> = {}, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // A null (removed) variable holds no secret; noteSecrets ignores anything that is not a string.
  noteSecretEnv(env as Record<string, string | undefined>);
  const child = spawn(NODE, [join(ROOT, 'src/main.ts')], { cwd: ROOT, env: botEnv({ LOG_LEVEL: 'warn', ...env }), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => { stdout += b.toString('utf8'); });
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString('utf8'); });
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  noteLogLines([...stdout.split('\n'), ...stderr.split('\n')].filter(Boolean));
  return { code, stdout, stderr };
}

/**
 * The real bot in HTTP mode against a Slack stand-in: its tokens, signing secret and API URL, the
 * stand-in's request URL pointed at the bot, and resolved once the bot has authenticated.
 */
export async function startHttpBot(
  slack: { botToken: string; signingSecret: string; apiUrl: string; setRequestUrl(url: string): void },
  env: Record<string, string | undefined> = {},
  opts: { timeoutMs?: number } = {},
): Promise<BotProcess> {
  const bot = await startBotProcess({
    SLACK_MODE: 'http', SLACK_BOT_TOKEN: slack.botToken, SLACK_SIGNING_SECRET: slack.signingSecret, SLACK_API_URL: slack.apiUrl, ...env,
  }, opts);
  slack.setRequestUrl(`${bot.url}/slack/events`);
  await bot.waitForLine(/authenticated with Slack/);
  return bot;
}
