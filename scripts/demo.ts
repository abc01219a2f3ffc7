// `npm run demo`: a real local API server with sample data drawn from the seeds' clusters, then the
// bot's terminal mode against it. Pipe commands in (`echo "/backup status" | npm run demo`) or type
// them at the prompt. `npm run cluster -- down` stops the cluster afterwards.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { resticBinary } from '../test/harness/restic.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function run(args: string[], env: NodeJS.ProcessEnv, stdio: 'inherit' | 'capture'): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout?.on('data', (b: Buffer) => { stdout += b.toString('utf8'); });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout }));
  });
}

// The sample repository needs restic; build the pinned one on first use (a few minutes, cached).
if (!resticBinary()) {
  process.stderr.write('demo: building restic for the sample repository (first time only)...\n');
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [join(root, 'test/harness/setup/restic.sh')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`test/harness/setup/restic.sh failed (exit ${code})`))));
  });
}

const up = await run([join(root, 'scripts/cluster.ts'), 'up', '--seed'], process.env, 'capture');
const last = up.stdout.trim().split('\n').at(-1) ?? '';
const match = /^KUBECONFIG=(.+)$/.exec(last);
if (up.code !== 0 || !match) {
  process.stderr.write(`demo: the local cluster did not start (exit ${up.code}); see the messages above.\n`);
  process.exit(1);
}
const kubeconfig = match[1]!;
process.stderr.write(`demo: cluster ready (KUBECONFIG=${kubeconfig}). Try: /backup status, /backup doctor, /restic locks media plex, /backup window\n`);
const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfig, SLACK_MODE: 'terminal' };
// The demo never talks to a real Slack, whatever is in the developer's environment.
for (const k of ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET']) delete env[k];
const bot = await run([join(root, 'src/main.ts')], env, 'inherit');
process.exit(bot.code ?? 1);
