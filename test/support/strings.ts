/** Descriptions that break naive quoting: every engine must read each back byte-identical. */
export const HOSTILE_DESCRIPTIONS: readonly string[] = [
  "it's a 'quoted' \"word\"",
  'back\\slash and trailing backslash\\',
  'literal \\n is two characters; \\\\ is two backslashes',
  'line one\nline two\r\nline three\ttabbed',
  '$$ dollar $$ quoted $tag$ body $tag$',
  'percent % underscore _ and ?, $1, :name, {value}',
  'emoji 🚀📊 and 4-byte 𝄞 𠜎 plus combining é',
  "'; DROP TABLE users; --",
  '\\\'',
  'control\u0001chars\u001f\u007f',
  '   leading and trailing spaces   ',
  'x'.repeat(3000),
];

/** Identifiers with spaces, quotes, dots and mixed case. */
export const HOSTILE_IDENTIFIERS = {
  schema: 'Sales "Mart".v2',
  table: "Order's Items",
  column: 'Unit.Price "EUR"',
} as const;

/** Deterministic pseudo-random strings (a seeded generator: failures reproduce). */
export function generatedStrings(count: number, seed = 42): string[] {
  let state = seed >>> 0;
  const next = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state;
  };
  const alphabet = ["'", '"', '\\', '\n', '\t', '$', '`', ';', '-', '/', '*', '%', '_', 'a', 'Z', ' ', 'é', '🚀', '𝄞', '\u0007'];
  return Array.from({ length: count }, () => {
    const length = 1 + (next() % 40);
    return Array.from({ length }, () => alphabet[next() % alphabet.length]).join('');
  });
}
