// Memory limits and the "next tier" advice given for an OOMKilled container.
// @kubernetes/client-node's quantityToScalar is not exported and rejects
// fractions like "1.5Gi", so memory quantities are parsed here.

const MI = 1024 ** 2;
const GI = 1024 ** 3;

const BINARY: Record<string, number> = { Ki: 1024, Mi: MI, Gi: GI, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6 };
const DECIMAL: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** Tiers 64Mi, 128Mi, … 64Gi: the sizes people actually write in manifests. */
const TIERS = Array.from({ length: 11 }, (_, i) => 64 * MI * 2 ** i);
/** Going from 500Mi to 512Mi would not stop the next OOM kill; a tier must add at least this much. */
const MIN_STEP = 1.25;

/** Bytes in a Kubernetes memory quantity ("256Mi", "1.5Gi", "512M", "268435456", "1e9"), or undefined. */
export function parseMemoryQuantity(quantity: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([kMGTPE])|[eE](\d+))?\s*$/.exec(quantity);
  if (!m) return undefined;
  const value = Number(m[1]);
  const factor = m[2] ? BINARY[m[2]]! : m[3] ? DECIMAL[m[3]]! : m[4] ? 10 ** Number(m[4]) : 1;
  const bytes = value * factor;
  return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
}

/** Whole Gi when exact, else whole Mi rounded up. */
export function formatMemory(bytes: number): string {
  if (bytes >= GI && bytes % GI === 0) return `${bytes / GI}Gi`;
  return `${Math.ceil(bytes / MI)}Mi`;
}

/** The limit 50% higher, as the runbook's alternative to the next tier. */
export function memoryPlus50(limit: string): string | undefined {
  const bytes = parseMemoryQuantity(limit);
  return bytes === undefined ? undefined : formatMemory(bytes * 1.5);
}

/**
 * The next tier up (256Mi → 512Mi → 1Gi → 2Gi …); a limit between tiers goes to the
 * next tier that is a real step up; outside the tier table, +50%.
 */
export function nextMemoryTier(limit: string): string | undefined {
  const bytes = parseMemoryQuantity(limit);
  if (bytes === undefined) return undefined;
  if (bytes < TIERS[0]! || bytes > TIERS[TIERS.length - 1]!) return formatMemory(bytes * 1.5);
  const tier = TIERS.find((t) => t >= bytes * MIN_STEP);
  return formatMemory(tier ?? bytes * 1.5);
}
