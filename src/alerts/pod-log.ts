/**
 * The tail of the previous (crashed) container's log: `kubectl logs --previous --tail`, bounded in
 * lines and bytes on the server side so a chatty crash cannot flood the bot or the thread.
 */
import type { Kube } from '../kube/client.ts';
import { kubeErrorLine, statusCode } from '../kube/client.ts';

export const LOG_TAIL_LINES = 50;
export const LOG_LIMIT_BYTES = 32 * 1024;
const LINE_MAX_CHARS = 500;

export type PreviousLog = { lines: string[] } | { unavailable: string };

export interface LogTarget {
  namespace: string;
  pod: string;
  container?: string;
}

export type LogReader = (t: LogTarget) => Promise<PreviousLog>;

/** Splits, drops the partial first line limitBytes may have cut, and caps each line. */
export function tailLines(text: string, max: number, cutAtStart: boolean): string[] {
  let lines = text.split('\n');
  if (cutAtStart && lines.length > 1) lines = lines.slice(1);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  return lines.slice(-max).map((l) => (l.length > LINE_MAX_CHARS ? `${l.slice(0, LINE_MAX_CHARS - 1)}…` : l));
}

export function previousLogReader(kube: Kube, opts: { lines?: number; limitBytes?: number } = {}): LogReader {
  const lines = opts.lines ?? LOG_TAIL_LINES;
  const limitBytes = opts.limitBytes ?? LOG_LIMIT_BYTES;
  return async (t) => {
    try {
      const text = await kube.core.readNamespacedPodLog({
        name: t.pod,
        namespace: t.namespace,
        ...(t.container ? { container: t.container } : {}),
        previous: true,
        tailLines: lines,
        limitBytes,
      });
      const body = typeof text === 'string' ? text : String(text ?? '');
      if (body.trim() === '') return { unavailable: 'the previous container wrote nothing to its log' };
      return { lines: tailLines(body, lines, Buffer.byteLength(body) >= limitBytes) };
    } catch (err) {
      const code = statusCode(err);
      const message = String((err as { body?: unknown }).body ?? (err as Error).message ?? '');
      if (code === 400 && /previous terminated container .* not found/i.test(message)) {
        return { unavailable: 'no previous container: it has not terminated since the pod started' };
      }
      if (code === 404) return { unavailable: 'the pod no longer exists' };
      return { unavailable: kubeErrorLine(err, `read the previous log of ${t.namespace}/${t.pod}`, kube) };
    }
  };
}
