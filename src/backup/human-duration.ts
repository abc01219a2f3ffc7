/** Durations as the bot prints them everywhere; the one implementation is src/text.ts. */
export { duration as humanDuration, relative } from '../text.ts';
