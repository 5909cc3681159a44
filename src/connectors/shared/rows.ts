/**
 * Catalog rows as drivers return them, read with one rule for NULL (null or undefined, whatever
 * the driver gives): a NULL name or value is the empty string, never 'null'; a NULL owner is none;
 * a NULL or empty comment is no description (engines store "no comment" as either).
 */

/** A name or value that is text: NULL reads as ''. */
export function rowText(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

/** A value that may be absent (an owner): NULL reads as null. */
export function rowNullable(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** A comment: NULL and '' read as no description. */
export function rowComment(value: unknown): string | null {
  return rowNullable(value) || null;
}
