/**
 * The emulator's own FQN rules (it imports nothing from src/), after openmetadata-service
 * util/FullyQualifiedName.java:
 * - current (PR #28697, merged 2026-06-04; grammar `NAME_WITH_RESERVED: QUOTE ( ~["] | '""' )* QUOTE`):
 *   a part containing `.` or `"` is double-quoted and an inner `"` doubled; a backslash is an
 *   ordinary character;
 * - older (@9c90691 "Allow names with quotes"): a part containing `"` has it written `\"` with
 *   no surrounding quotes; otherwise a part containing `.` is double-quoted.
 */
export type FqnStyle = 'doubled' | 'backslash';

export function quoteName(name: string, style: FqnStyle = 'doubled'): string {
  if (style === 'backslash') {
    if (name.includes('"')) return name.replaceAll('"', '\\"');
    return name.includes('.') ? `"${name}"` : name;
  }
  return /[."]/.test(name) ? `"${name.replaceAll('"', '""')}"` : name;
}

export function buildFqn(...parts: string[]): string {
  return parts.map((part) => quoteName(part)).join('.');
}

export function buildFqnIn(style: FqnStyle, ...parts: string[]): string {
  return parts.map((part) => quoteName(part, style)).join('.');
}

/** FullyQualifiedName.add: a valid FQN, a dot, the quoted name. */
export function addToFqn(fqn: string, name: string, style: FqnStyle = 'doubled'): string {
  return `${fqn}.${quoteName(name, style)}`;
}

/**
 * Parts by the current grammar: a quoted part holds anything, `""` standing for `"`; an
 * unquoted part holds anything but `.` and `"` (a backslash is itself). Throws on what the
 * server's parser (BailErrorStrategy) rejects.
 */
export function splitFqn(fqn: string): string[] {
  // One part: a quoted name (anything, `""` for a quote) or an unquoted one (no `.`, no `"`),
  // then a separator or the end.
  const part = /(?:"((?:[^"]|"")*)"|([^."]*))(\.|$)/y;
  const parts: string[] = [];
  for (part.lastIndex = 0; ; ) {
    const at = part.lastIndex;
    const match = part.exec(fqn);
    if (!match || match.index !== at) throw new Error(`invalid FQN ${fqn} at ${at}`);
    parts.push(match[1] !== undefined ? match[1].replaceAll('""', '"') : (match[2] as string));
    if (match[3] === '') {
      if (part.lastIndex !== fqn.length) throw new Error(`invalid FQN ${fqn} at ${part.lastIndex}`);
      return parts;
    }
  }
}
