/**
 * Reads which pods a crash-loop alert is about from a message another integration posted
 * (Alertmanager's own Slack receiver with the usual templates): "Container X in pod Y has
 * restarted N times", "Pod media/plex-… (plex) is in waiting state", label lists such as
 * "namespace: media" / "pod = plex-…" / "- container = plex".
 */

export interface WatchTarget {
  namespace?: string;
  pod: string;
  container?: string;
  alertname?: string;
}

/** Everything a person sees in a message: text, attachments (title, pretext, text, fields) and blocks. */
export function messageText(m: { text?: unknown; attachments?: unknown; blocks?: unknown }): string {
  const parts: string[] = [];
  const push = (v: unknown) => {
    if (typeof v === 'string' && v.trim()) parts.push(v);
  };
  push(m.text);
  for (const a of Array.isArray(m.attachments) ? m.attachments : []) {
    if (!a || typeof a !== 'object') continue;
    const att = a as Record<string, unknown>;
    for (const k of ['pretext', 'title', 'text', 'fallback', 'footer']) push(att[k]);
    for (const f of Array.isArray(att['fields']) ? att['fields'] : []) {
      const field = f as Record<string, unknown>;
      if (typeof field['title'] === 'string' && typeof field['value'] === 'string') parts.push(`${field['title']}: ${field['value']}`);
      else push(field['value']);
    }
    collectBlockText(att['blocks'], push);
  }
  collectBlockText(m.blocks, push);
  return parts.join('\n').slice(0, 40_000);
}

function collectBlockText(blocks: unknown, push: (v: unknown) => void): void {
  const walk = (v: unknown, depth: number) => {
    if (depth > 6 || !v || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
      return;
    }
    const o = v as Record<string, unknown>;
    if (typeof o['text'] === 'string') push(o['text']);
    for (const [k, x] of Object.entries(o)) if (k !== 'text' && typeof x === 'object') walk(x, depth + 1);
    if (o['text'] && typeof o['text'] === 'object') walk(o['text'], depth + 1);
  };
  walk(blocks, 0);
}

const NAME = '[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?';
const CONTAINER = '[A-Za-z0-9][\\w.-]{0,62}';

interface Found {
  at: number;
  value: string;
}

function all(re: RegExp, text: string, group: string): Found[] {
  const out: Found[] = [];
  for (const m of text.matchAll(re)) {
    const v = m.groups?.[group];
    if (v) out.push({ at: m.index ?? 0, value: v });
  }
  return out;
}

function nearest(list: Found[], at: number): string | undefined {
  let best: Found | undefined;
  for (const f of list) if (!best || Math.abs(f.at - at) < Math.abs(best.at - at)) best = f;
  return best?.value;
}

/** The pods a message names, at most `max`, in the order they appear. */
export function extractTargets(raw: string, max = 3): WatchTarget[] {
  // Slack formatting around values: *bold*, _italic_, `code`, and <url|label> links.
  const text = raw.replace(/<[^>|]*\|([^>]*)>/g, '$1').replace(/[*_`"']/g, '').replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&amp;/g, '&');
  const namespaces = all(new RegExp(`\\bnamespace\\s*(?:[:=]|\\s-\\s)\\s*(?<ns>${NAME})`, 'gi'), text, 'ns');
  const containers = all(new RegExp(`\\bcontainer\\s*[:=]\\s*(?<c>${CONTAINER})`, 'gi'), text, 'c');
  const alertnames = all(/\balertname\s*[:=]\s*(?<a>[A-Za-z_][A-Za-z0-9_]*)/gi, text, 'a');
  const found: Array<WatchTarget & { at: number }> = [];
  // "Container plex in pod plex-… has restarted 7 times"
  for (const m of text.matchAll(new RegExp(`\\bcontainer\\s+(?<c>${CONTAINER})\\s+in\\s+pod\\s+(?<pod>${NAME})`, 'gi'))) {
    found.push({ at: m.index ?? 0, pod: m.groups!['pod']!, container: m.groups!['c']! });
  }
  // "Pod media/plex-… (plex) is in waiting state"
  for (const m of text.matchAll(new RegExp(`\\bpod\\s+(?<ns>${NAME})/(?<pod>${NAME})(?:\\s*\\((?<c>${CONTAINER})\\))?`, 'gi'))) {
    found.push({ at: m.index ?? 0, namespace: m.groups!['ns']!, pod: m.groups!['pod']!, ...(m.groups!['c'] ? { container: m.groups!['c'] } : {}) });
  }
  // Label lists: "pod: plex-…", "pod = plex-…"
  for (const m of text.matchAll(new RegExp(`\\bpod\\s*[:=]\\s*(?<pod>${NAME})`, 'gi'))) {
    found.push({ at: m.index ?? 0, pod: m.groups!['pod']! });
  }
  found.sort((a, b) => a.at - b.at);
  const out: WatchTarget[] = [];
  const seen = new Map<string, WatchTarget>();
  for (const f of found) {
    const t: WatchTarget = { pod: f.pod };
    const ns = f.namespace ?? nearest(namespaces, f.at);
    if (ns) t.namespace = ns;
    const c = f.container ?? nearest(containers, f.at);
    if (c) t.container = c;
    const a = nearest(alertnames, f.at);
    if (a) t.alertname = a;
    const known = seen.get(f.pod);
    if (known) {
      // The same pod named twice (description and labels): keep what either says.
      known.namespace ??= t.namespace;
      known.container ??= t.container;
      continue;
    }
    seen.set(f.pod, t);
    out.push(t);
  }
  return out.slice(0, max);
}
