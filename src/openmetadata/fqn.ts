/**
 * OpenMetadata fully qualified names. The separator is `.`; a part containing a dot is wrapped in
 * double quotes; a double quote or backslash inside a part is escaped with a backslash (the
 * newer Fqn.g4 grammar and FullyQualifiedName.quoteName). Entities ingested by OpenMetadata's
 * Python connectors carry names with `::`, `>` and `"` replaced by `__reserved__…__` markers
 * (replace_separators), so a source name and its catalog name can differ.
 */

const RESERVED: readonly (readonly [string, string])[] = [
  ['::', '__reserved__colon__'],
  ['>', '__reserved__arrow__'],
  ['"', '__reserved__quote__'],
];

/** The name the catalog's connectors give a source object (replace_separators). */
export function catalogName(sourceName: string): string {
  let name = sourceName;
  for (const [from, to] of RESERVED) name = name.split(from).join(to);
  return name;
}

/** The source object a catalog name stands for (revert_separators). */
export function sourceName(name: string): string {
  let result = name;
  for (const [from, to] of RESERVED) result = result.split(to).join(from);
  return result;
}

export function quoteFqnPart(part: string): string {
  const escaped = part.replace(/["\\]/g, (c) => `\\${c}`);
  return part.includes('.') ? `"${escaped}"` : escaped;
}

export function buildFqn(parts: readonly string[]): string {
  return parts.map(quoteFqnPart).join('.');
}

/** Parts of an FQN; also reads the older form where a quoted part escapes a quote by doubling it. */
export function splitFqn(fqn: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < fqn.length; i++) {
    const c = fqn[i] as string;
    if (c === '\\' && i + 1 < fqn.length) current += fqn[++i];
    else if (c === '"' && quoted && fqn[i + 1] === '"') {
      current += '"';
      i++;
    } else if (c === '"') quoted = !quoted;
    else if (c === '.' && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  if (quoted) throw new Error(`invalid OpenMetadata FQN ${fqn}: unterminated quote`);
  parts.push(current);
  return parts;
}

/** One path segment of a REST URL: encodeURIComponent never yields `+`, and encodes `/`, `"`, `%`. */
export function fqnSegment(fqn: string): string {
  return encodeURIComponent(fqn);
}
