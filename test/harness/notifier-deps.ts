/**
 * The alert group notifier's dependencies as its tests build them: a fast poster against the Slack
 * stand-in, an in-memory thread store, the crash-loop pattern, no routes; each test says which
 * diagnoser, hooks and diagnoses per round it wants.
 */
import type { Logger } from 'pino';
import { ChannelPoster } from '../../src/slack/poster.ts';
import { createWebClient } from '../../src/slack/web-client.ts';
import { MemoryThreadStore } from '../../src/alerts/thread-store.ts';
import { crashLoopMatcher } from '../../src/alerts/group-notifier.ts';
import type { NotifierDeps } from '../../src/alerts/group-notifier.ts';
import { BackupFacts } from '../../src/backup-window/facts.ts';
import { ButtonSigner } from '../../src/alerts/button-values.ts';
import { DEFAULT_PATTERNS } from '../../src/alerts/patterns.ts';
import type { DiagnoserOptions } from '../../src/alerts/diagnoser.ts';

/** The Diagnoser's options with no window, a test signer and 1 h buttons, plus what the test adds. */
export function testDiagnoserOptions(o: Partial<DiagnoserOptions> = {}): DiagnoserOptions {
  return { patterns: DEFAULT_PATTERNS, backup: new BackupFacts({ windows: [] }), signer: new ButtonSigner('xoxb-x'), buttonTtlMs: 3600_000, ...o };
}

export function notifierDeps(o: { slackApiUrl: string; botToken: string; log: Logger; channel: string } & Pick<NotifierDeps, 'diagnoser' | 'hooks' | 'maxDiagnoses'>): NotifierDeps {
  const client = createWebClient(o.botToken, { slackApiUrl: o.slackApiUrl, log: o.log });
  return {
    poster: new ChannelPoster(client, { minIntervalMs: 5, updateIntervalMs: 5 }),
    store: new MemoryThreadStore(),
    log: o.log,
    routes: [],
    defaultChannel: o.channel,
    isCrashLoop: crashLoopMatcher(/(KubePodCrashLooping|CrashLoopBackOff)/),
    diagnoser: o.diagnoser,
    hooks: o.hooks,
    maxDiagnoses: o.maxDiagnoses,
  };
}
