/**
 * "Did you mean …?" for namespace and source names: the closest candidates by edit distance
 * (Levenshtein), plus those that contain what was typed, best first.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (!a.length) return b.length;
  if (!b.length) return a.length;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(cur[j - 1]! + 1, prev[j]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

export function nearest(typed: string, candidates: Iterable<string>, max = 3): string[] {
  const limit = Math.max(2, Math.floor(typed.length / 3));
  const scored: Array<{ c: string; d: number }> = [];
  for (const c of new Set(candidates)) {
    const d = editDistance(typed, c);
    // A candidate that contains the typed text (or the reverse) is a near miss whatever its length.
    const contains = typed.length >= 3 && (c.includes(typed) || typed.includes(c));
    if (d <= limit || contains) scored.push({ c, d: contains ? Math.min(d, limit) : d });
  }
  scored.sort((x, y) => x.d - y.d || x.c.localeCompare(y.c));
  return scored.slice(0, max).map((s) => s.c);
}
