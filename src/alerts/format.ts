/** Text helpers for alert messages; times, ages and excerpts come from src/text.ts. */
import { inlineCode } from '../reply.ts';

export { duration as age, oneLine, timeIn } from '../text.ts';

/** Inline code that cannot be broken out of by a backtick in the value. */
export function code(s: string, max = 200): string {
  return inlineCode(s, max);
}
