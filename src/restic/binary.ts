// Which restic the bot runs: RESTIC_BIN when set (tests and odd installs), else `restic` on PATH.
// Exit codes 10/11/12 and the unlock behaviour this module relies on need restic ≥ 0.17.

export function resticBinary(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['RESTIC_BIN'];
  return configured !== undefined && configured !== '' ? configured : 'restic';
}
