/**
 * Snowflake's identifier rules, for names as metaform carries them. A name in YAML (and in a
 * change's path) is written as in SQL: `orders` and `ORDERS` designate the stored name ORDERS,
 * `"Orders"` the stored name Orders; a name that cannot be an unquoted identifier (spaces, dots,
 * quotes) is taken as written. Live names are spelled the same way, so that the stored name
 * round-trips: `spellName(stored)` folds back to `stored`.
 */

const UNQUOTED = /^[A-Za-z_][A-Za-z0-9_$]*$/;
const STORED_UNQUOTED = /^[A-Z_][A-Z0-9_$]*$/;

/** The stored name a spelling designates. */
export function storedName(spelling: string): string {
  if (spelling.length >= 2 && spelling.startsWith('"') && spelling.endsWith('"')) {
    const inner = spelling.slice(1, -1);
    // Only a well-formed quoted identifier ("" for each quote inside) is read as one.
    if (/^(?:[^"]|"")+$/.test(inner)) return inner.replaceAll('""', '"');
  }
  return UNQUOTED.test(spelling) ? spelling.toUpperCase() : spelling;
}

/** How metaform writes a stored name: bare when Snowflake would fold it to itself, else quoted. */
export function spellName(stored: string): string {
  return STORED_UNQUOTED.test(stored) ? stored : `"${stored.replaceAll('"', '""')}"`;
}

/** Splits `A.B.C` and `"a.b".C` at the dots outside quotes, each part a spelling. */
export function splitQualified(text: string): string[] | undefined {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (char === '"') {
      if (quoted && text[i + 1] === '"') {
        current += '""';
        i++;
        continue;
      }
      quoted = !quoted;
      current += char;
    } else if (char === '.' && !quoted) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  if (quoted) return undefined;
  parts.push(current);
  return parts.every((part) => part.length > 0 && (part.startsWith('"') || UNQUOTED.test(part))) ? parts : undefined;
}

/** Where a tag key's tag object lives: [database, schema, name], stored names. */
export type TagObjectName = [string, string, string];

/** `options.tagSchema` (`GOVERNANCE.TAGS`) as stored names, or undefined when not set or malformed. */
export function tagSchemaOf(options: Record<string, unknown>): [string, string] | undefined {
  const value = options['tagSchema'];
  if (typeof value !== 'string') return undefined;
  const parts = splitQualified(value);
  return parts?.length === 2 ? [storedName(parts[0] as string), storedName(parts[1] as string)] : undefined;
}

/**
 * The tag object a YAML tag key names: `PII` in the service's tag schema, or `DB.SCHEMA.PII`
 * anywhere. An error text when the key names none.
 */
export function resolveTagKey(key: string, tagSchema: [string, string] | undefined): TagObjectName | { error: string } {
  const parts = splitQualified(key);
  if (!parts || (parts.length !== 1 && parts.length !== 3))
    return { error: `tag key ${key} is neither a tag name nor DATABASE.SCHEMA.TAG` };
  if (parts.length === 3) return parts.map(storedName) as TagObjectName;
  if (!tagSchema) return { error: `tag key ${key} names no schema, and the service sets no options.tagSchema` };
  return [tagSchema[0], tagSchema[1], storedName(parts[0] as string)];
}

/** The key metaform reads back for a tag object: its bare name in the tag schema, else its full name. */
export function tagKeyFor(tag: TagObjectName, tagSchema: [string, string] | undefined): string {
  if (tagSchema && tag[0] === tagSchema[0] && tag[1] === tagSchema[1]) return spellName(tag[2]);
  return tag.map(spellName).join('.');
}
