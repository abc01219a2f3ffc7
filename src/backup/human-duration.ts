/**
 * Ages the way kubectl prints them (k8s.io/apimachinery duration.HumanDuration), so what the bot
 * says matches the AGE column an operator sees next to it: "47s", "5m3s", "4h12m", "8d", "2y3d".
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  // kubectl tolerates a little clock skew before calling a time invalid.
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const y = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** "5m ago" / "in 12m" relative to now. */
export function relative(at: number, now: number): string {
  return at <= now ? `${humanDuration(now - at)} ago` : `in ${humanDuration(at - now)}`;
}
