/**
 * OpenMetadata fully qualified names. The separator is `.`. How a part is quoted depends on the
 * server (openmetadata-service util/FullyQualifiedName.java):
 * - current servers (PR #28697, 2026-06): a part containing `.` or `"` is wrapped in double
 *   quotes and an inner `"` is doubled; a backslash is an ordinary character;
 * - older servers (@9c90691, "Allow names with quotes"): a part containing `.` is wrapped in
 *   double quotes; a part containing `"` has each `"` written `\"`, without surrounding quotes.
 * Reading takes both forms. Entities ingested by OpenMetadata's Python connectors carry names
 * with `::`, `>` and `"` replaced by `__reserved__…__` markers (replace_separators), so a source
 * name and its catalog name can differ.
 */

/** How the connected server quotes FQN parts. */
export type FqnQuoting = 'doubled' | 'backslash';

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

export function quoteFqnPart(part: string, quoting: FqnQuoting = 'doubled'): string {
  if (quoting === 'backslash') {
    if (part.includes('"')) return part.replaceAll('"', '\\"');
    return part.includes('.') ? `"${part}"` : part;
  }
  return /[."]/.test(part) ? `"${part.replaceAll('"', '""')}"` : part;
}

export function buildFqn(parts: readonly string[], quoting: FqnQuoting = 'doubled'): string {
  return parts.map((part) => quoteFqnPart(part, quoting)).join('.');
}

/**
 * Parts of an FQN in either form: a quoted part ends at a `"` not followed by another (`""` is
 * one quote); in an unquoted part `\"` is a quote (the older form) and any other backslash is
 * itself.
 */
export function splitFqn(fqn: string): string[] {
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    let current = '';
    if (fqn[i] === '"') {
      i++;
      for (;;) {
        if (i >= fqn.length) throw new Error(`invalid OpenMetadata FQN ${fqn}: unterminated quote`);
        const c = fqn[i] as string;
        if (c === '"' && fqn[i + 1] === '"') {
          current += '"';
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          current += c;
          i++;
        }
      }
      if (i < fqn.length && fqn[i] !== '.') throw new Error(`invalid OpenMetadata FQN ${fqn}: text after a quoted part`);
    } else {
      while (i < fqn.length && fqn[i] !== '.') {
        if (fqn[i] === '\\' && fqn[i + 1] === '"') {
          current += '"';
          i += 2;
        } else current += fqn[i++];
      }
    }
    parts.push(current);
    if (i >= fqn.length) return parts;
    i++; // the separator
  }
}

/**
 * One path segment of a REST URL: encodeURIComponent never yields `+`, and encodes `/` (as
 * `%2F`), `"`, `%`. Whether a Jetty in front of OpenMetadata accepts `%2F` in a path is
 * UNVERIFIED (Jetty 12's default URI compliance refuses ambiguous separators); such a refusal is
 * reported as the server's error for that entity.
 */
export function fqnSegment(fqn: string): string {
  return encodeURIComponent(fqn);
}
