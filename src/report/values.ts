import { diffWords } from 'diff';
import type { Colors } from './style.js';

/** Descriptions longer than this, or with a newline, show as a word diff instead of before -> after. */
const LONG = 60;

export function isLong(value: string | null): boolean {
  return value !== null && (value.length > LONG || value.includes('\n'));
}

/** A value as it reads in a plan: JSON-quoted so whitespace and control characters show. */
export function show(value: string | null): string {
  return value === null ? '(none)' : JSON.stringify(value);
}

/** `[-removed-]{+added+}` word diff, coloured on a terminal. */
export function wordDiff(before: string, after: string, colors: Colors): string {
  return diffWords(before, after)
    .map((part) => {
      const text = JSON.stringify(part.value).slice(1, -1);
      if (part.added) return colors.green(`{+${text}+}`);
      if (part.removed) return colors.red(`[-${text}-]`);
      return text;
    })
    .join('');
}
