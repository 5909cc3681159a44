import { diffWords } from 'diff';
import type { Colors } from './style.js';

/** Descriptions longer than this, or with a newline, show as a word diff instead of before -> after. */
const LONG = 60;
/** Values print their first characters only past this length: the statement carries the whole text. */
export const SHOWN_CHARACTERS = 1_000;
/**
 * Word diffs cost time in (length x edits): past these sizes a reviewer is better served by
 * before -> after, and a 1 MB description must not stall the plan.
 */
const DIFF_CHARACTERS = 20_000;
const DIFF_EDITS = 500;

export function isLong(value: string | null): boolean {
  return value !== null && (value.length > LONG || value.includes('\n'));
}

/**
 * C0 and C1 controls (but tab and newline), DEL, line/paragraph separators and the Unicode bidi
 * controls: raw, they let a description clear a terminal, rewrite a line (CR, ESC sequences) or
 * reorder what a reviewer reads (Trojan Source).
 */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Text with every control character written as a `\uXXXX` escape (newlines and tabs kept). */
export function escapeControls(text: string, paint: (escape: string) => string = (escape) => escape): string {
  return text.replace(CONTROLS, (control) => paint(`\\u${control.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** Whether escapeControls would change the text. */
export function hasControls(text: string): boolean {
  CONTROLS.lastIndex = 0;
  return CONTROLS.test(text);
}

/**
 * Said under a statement shown with escapes: pasted as shown, it would store the escape's
 * characters instead of the control character the statement run holds.
 */
export const ESCAPED_STATEMENT_NOTE = 'shown with control characters as \\uXXXX, not runnable as shown: the statement run holds the characters themselves (`plan --format json` has it exactly)';

function lengthNote(value: string): string {
  return ` (${value.length.toLocaleString('en-US')} characters)`;
}

/** Inside of a JSON string: quotes, backslashes and controls escaped; shortened past SHOWN_CHARACTERS. */
function quotedInside(value: string): string {
  const shown = value.length > SHOWN_CHARACTERS ? value.slice(0, SHOWN_CHARACTERS) : value;
  return escapeControls(JSON.stringify(shown).slice(1, -1));
}

/** A value as it reads in a plan: JSON-quoted so whitespace and control characters show; a long one shortened, with its length. */
export function show(value: string | null): string {
  if (value === null) return '(none)';
  if (value.length <= SHOWN_CHARACTERS) return `"${quotedInside(value)}"`;
  return `"${quotedInside(value)}…"${lengthNote(value)}`;
}

function replaced(before: string, after: string, colors: Colors): string {
  const side = (value: string) => (value.length > SHOWN_CHARACTERS ? `${quotedInside(value)}…${lengthNote(value)}` : quotedInside(value));
  return colors.red(`[-${side(before)}-]`) + colors.green(`{+${side(after)}+}`);
}

/** `[-removed-]{+added+}` word diff, coloured on a terminal; the whole before and after when the texts are too long or too different. */
export function wordDiff(before: string, after: string, colors: Colors): string {
  if (before.length + after.length > DIFF_CHARACTERS) return replaced(before, after, colors);
  const parts = diffWords(before, after, { maxEditLength: DIFF_EDITS });
  if (parts === undefined) return replaced(before, after, colors);
  let text = '';
  for (const part of parts) {
    // JSON-escaped for backslashes and newlines, but the diff is not a quoted string: a quote stays a quote.
    const inside = escapeControls(JSON.stringify(part.value).slice(1, -1).replace(/\\(.)/g, (pair, next: string) => (next === '"' ? '"' : pair)));
    if (part.added) text += colors.green(`{+${inside}+}`);
    else if (part.removed) text += colors.red(`[-${inside}-]`);
    else text += inside;
  }
  return text;
}
