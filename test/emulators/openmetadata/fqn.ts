/**
 * The emulator's own FQN rules (it imports nothing from src/): OpenMetadata's newer grammar,
 * where a part containing a dot is double-quoted and a double quote or backslash is escaped.
 */
export function quoteName(name: string): string {
  const escaped = name.replace(/["\\]/g, (c) => `\\${c}`);
  return name.includes('.') ? `"${escaped}"` : escaped;
}

export function buildFqn(...parts: string[]): string {
  return parts.map(quoteName).join('.');
}

export function splitFqn(fqn: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let started = false;
  for (let i = 0; i < fqn.length; i++) {
    const c = fqn[i] as string;
    if (c === '\\' && i + 1 < fqn.length) {
      current += fqn[++i];
      started = true;
    } else if (c === '"') {
      if (!quoted && started) throw new Error(`invalid FQN ${fqn}: quote inside a name`);
      quoted = !quoted;
      started = true;
    } else if (c === '.' && !quoted) {
      parts.push(current);
      current = '';
      started = false;
    } else {
      current += c;
      started = true;
    }
  }
  if (quoted) throw new Error(`invalid FQN ${fqn}: unterminated quote`);
  parts.push(current);
  return parts;
}
