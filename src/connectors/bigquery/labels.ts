/**
 * BigQuery's label rules, checked at validation so a label is read back as the YAML writes it
 * (https://cloud.google.com/bigquery/docs/labels-intro#requirements):
 * - at most 64 labels per resource;
 * - keys 1 to 63 characters, values 0 to 63;
 * - only lowercase letters, numeric characters, underscores and dashes; international
 *   characters are allowed;
 * - keys start with a lowercase letter or an international character.
 */
export const MAX_LABELS = 64;
export const MAX_LABEL_LENGTH = 63;

/** Letters without an upper-case form (CJK...) count as "international characters". */
const ALLOWED = /^[\p{Ll}\p{Lo}\p{Lm}\p{Nd}_-]*$/u;
const KEY_START = /^[\p{Ll}\p{Lo}\p{Lm}]/u;

/** The nearest spelling the rules allow: lower case, anything else as `_`, cut to 63. */
export function labelSpelling(text: string, isKey: boolean): string {
  let fixed = [...text.toLowerCase()].map((char) => (ALLOWED.test(char) ? char : '_')).join('');
  if (isKey && !KEY_START.test(fixed)) fixed = `k${fixed}`;
  return [...fixed].slice(0, MAX_LABEL_LENGTH).join('');
}

export interface LabelProblem {
  error: string;
  hint: string;
  /** The label the text would be stored as (two YAML keys with one are ambiguous). */
  canonical?: string;
}

const RULE = 'BigQuery labels are lower-case letters, digits, _ and -, at most 63 characters; keys start with a letter';

/** A YAML tag key as a BigQuery label key: the key itself, or what is wrong and the fix. */
export function checkLabelKey(key: string): string | LabelProblem {
  if (key === '') return { error: 'a BigQuery label key cannot be empty', hint: 'write a key of 1 to 63 lower-case letters, digits, _ or -' };
  if (ALLOWED.test(key) && KEY_START.test(key) && [...key].length <= MAX_LABEL_LENGTH) return key;
  const fixed = labelSpelling(key, true);
  return { error: `label key ${JSON.stringify(key)} is not a valid BigQuery label key (${RULE})`, hint: `write it as ${fixed}`, canonical: fixed };
}

/** A YAML tag value as a label value: undefined when BigQuery stores it as written. */
export function checkLabelValue(key: string, value: string): LabelProblem | undefined {
  if (ALLOWED.test(value) && [...value].length <= MAX_LABEL_LENGTH) return undefined;
  return { error: `value ${JSON.stringify(value)} of label ${key} is not a valid BigQuery label value (${RULE})`, hint: `write it as ${labelSpelling(value, false)}` };
}
