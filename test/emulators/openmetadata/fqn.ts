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
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    let current = '';
    if (fqn[i] === '"') {
      i++;
      for (;;) {
        if (i >= fqn.length) throw new Error(`invalid FQN ${fqn}: unterminated quote`);
        if (fqn[i] === '"' && fqn[i + 1] === '"') {
          current += '"';
          i += 2;
        } else if (fqn[i] === '"') {
          i++;
          break;
        } else current += fqn[i++];
      }
      if (i < fqn.length && fqn[i] !== '.') throw new Error(`invalid FQN ${fqn}: text after a quoted name`);
    } else {
      while (i < fqn.length && fqn[i] !== '.') {
        if (fqn[i] === '"') throw new Error(`invalid FQN ${fqn}: quote inside an unquoted name`);
        current += fqn[i++];
      }
    }
    parts.push(current);
    if (i >= fqn.length) return parts;
    i++;
  }
}
