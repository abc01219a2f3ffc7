// restic prints ages with Go's time.Duration String(): "189h37m14.500688624s", "4m0.5s", "812ms".

const UNIT_MS: Readonly<Record<string, number>> = {
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
  us: 0.001,
  'µs': 0.001,
  'μs': 0.001,
  ns: 0.000_001,
};

/** Milliseconds in a Go duration string, or undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  const match = /^(-)?((?:\d+(?:\.\d+)?(?:h|ms|us|µs|μs|ns|m|s))+|0)$/.exec(text.trim());
  if (!match) return undefined;
  const body = match[2] ?? '';
  if (body === '0') return 0;
  let total = 0;
  for (const part of body.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|µs|μs|ns|m|s)/g)) {
    total += Number(part[1]) * (UNIT_MS[part[2] ?? ''] ?? 0);
  }
  return match[1] ? -total : total;
}
