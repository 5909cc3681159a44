/**
 * MySQL and MariaDB can only comment a column by restating its whole definition
 * (`ALTER TABLE ... MODIFY COLUMN <definition>`); an attribute left out is silently dropped.
 * So the definition is taken verbatim from SHOW CREATE TABLE, and only its COMMENT clause is
 * replaced, added or removed. Anything this scanner does not understand is refused, never guessed.
 *
 * SHOW CREATE TABLE must come from a session without ANSI_QUOTES (identifiers in backticks) and
 * without NO_BACKSLASH_ESCAPES (its literals double backslashes whatever the mode, and only a
 * session that reads `\\` as one backslash reads them back unchanged).
 */

type TokenKind = 'identifier' | 'string' | 'word' | 'open' | 'close' | 'comma' | 'space' | 'other';

interface Token {
  kind: TokenKind;
  start: number;
  end: number;
  depth: number;
}

/** Splits one definition into tokens, tracking parenthesis depth; throws on what it cannot read. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const start = i;
    const char = text[i] as string;
    let kind: TokenKind;
    if (char === '`' || char === "'" || char === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`unterminated ${char} quote`);
        const c = text[i];
        if (c === '\\' && char !== '`') i += 2;
        else if (c === char && text[i + 1] === char) i += 2;
        else if (c === char) {
          i++;
          break;
        } else i++;
      }
      kind = char === '`' ? 'identifier' : 'string';
    } else if (/\s/.test(char)) {
      while (i < text.length && /\s/.test(text[i] as string)) i++;
      kind = 'space';
    } else if (/[A-Za-z0-9_$.]/.test(char)) {
      while (i < text.length && /[A-Za-z0-9_$.]/.test(text[i] as string)) i++;
      kind = 'word';
    } else if (char === '(') {
      i++;
      kind = 'open';
    } else if (char === ')') {
      i++;
      kind = 'close';
    } else if (char === ',') {
      i++;
      kind = 'comma';
    } else {
      i++;
      kind = 'other';
    }
    if (kind === 'close') depth--;
    if (depth < 0) throw new Error('unbalanced parentheses');
    tokens.push({ kind, start, end: i, depth });
    if (kind === 'open') depth++;
  }
  if (depth !== 0) throw new Error('unbalanced parentheses');
  return tokens;
}

const isWord = (text: string, token: Token | undefined, word: string) =>
  token?.kind === 'word' && token.depth === 0 && text.slice(token.start, token.end).toUpperCase() === word;

/** The name an identifier token spells (backticks doubled inside). */
function identifierName(text: string, token: Token): string {
  return text.slice(token.start + 1, token.end - 1).replaceAll('``', '`');
}

/** Column name -> its definition line (without the trailing comma), from SHOW CREATE TABLE. */
export function columnDefinitions(createTable: string): Map<string, string> {
  const definitions = new Map<string, string>();
  for (const rawLine of createTable.split('\n')) {
    if (!rawLine.startsWith('  `')) continue; // keys, constraints and options do not start with an identifier
    const line = rawLine.slice(2).replace(/,$/, '');
    const [first] = tokenize(line);
    if (first?.kind !== 'identifier') continue;
    definitions.set(identifierName(line, first), line);
  }
  return definitions;
}

/** Where the top-level `COMMENT '...'` clause is (from the space before COMMENT to the literal's end). */
function commentClause(definition: string, tokens: Token[]): { start: number; end: number } | undefined {
  for (let i = 0; i < tokens.length; i++) {
    if (!isWord(definition, tokens[i], 'COMMENT')) continue;
    const literal = tokens[i + 2];
    if (tokens[i + 1]?.kind !== 'space' || literal?.kind !== 'string') throw new Error('COMMENT is not followed by a string literal');
    const before = tokens[i - 1];
    return { start: before?.kind === 'space' ? before.start : (tokens[i] as Token).start, end: literal.end };
  }
  return undefined;
}

/**
 * Whether the column is a STORED (PERSISTENT) generated column: MariaDB can change its comment
 * only by copying the whole table (ALGORITHM=COPY), so metaform leaves it alone.
 */
export function isStoredGenerated(definition: string): boolean {
  const tokens = tokenize(definition);
  return tokens.some((token) => isWord(definition, token, 'STORED') || isWord(definition, token, 'PERSISTENT'));
}

const MARIADB_JSON = /^(`(?:[^`]|``)*`) longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin( .*)? CHECK \(json_valid\((`(?:[^`]|``)*`)\)\)$/s;

/**
 * MariaDB prints a JSON column as `longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin ...
 * CHECK (json_valid(`c`))`, but that text declares a LONGTEXT, another type: restated as printed,
 * the server copies the table and the column loses its JSON type. With the `json` keyword (which
 * brings its CHECK back by itself) the column stays what it is. Other definitions are unchanged.
 */
export function withJsonKeyword(definition: string): string {
  const match = MARIADB_JSON.exec(definition);
  return match && match[1] === match[3] ? `${match[1]} json${match[2] ?? ''}` : definition;
}

/** The definition without its COMMENT clause: what must not change when the comment does. */
export function withoutComment(definition: string): string {
  const clause = commentClause(definition, tokenize(definition));
  return clause ? definition.slice(0, clause.start) + definition.slice(clause.end) : definition;
}

export type Restated = { definition: string } | { refused: string };

/**
 * The definition with `commentLiteral` as its comment (null removes it). A new clause goes before
 * a column CHECK constraint (MariaDB rejects COMMENT after CHECK), else at the end.
 */
export function restateWithComment(definition: string, commentLiteral: string | null): Restated {
  let tokens: Token[];
  try {
    tokens = tokenize(definition);
  } catch (error) {
    return { refused: `its definition could not be read safely (${(error as Error).message}): ${definition}` };
  }
  if (tokens[0]?.kind !== 'identifier') return { refused: `its definition does not start with the column name: ${definition}` };
  let clause: { start: number; end: number } | undefined;
  try {
    clause = commentClause(definition, tokens);
  } catch (error) {
    return { refused: `${(error as Error).message}: ${definition}` };
  }
  const addition = commentLiteral === null ? '' : ` COMMENT ${commentLiteral}`;
  if (clause) return { definition: definition.slice(0, clause.start) + addition + definition.slice(clause.end) };
  if (commentLiteral === null) return { definition };
  const check = tokens.findIndex((token) => isWord(definition, token, 'CHECK'));
  if (check === -1) return { definition: definition + addition };
  const at = (tokens[check - 1]?.kind === 'space' ? tokens[check - 1] : tokens[check]) as Token;
  return { definition: definition.slice(0, at.start) + addition + definition.slice(at.start) };
}

/** The MODIFY COLUMN definitions of an ALTER TABLE this module wrote, by column name. */
export function modifiedColumns(statement: string): Map<string, string> {
  const tokens = tokenize(statement);
  const definitions = new Map<string, string>();
  for (let i = 0; i < tokens.length; i++) {
    if (!(isWord(statement, tokens[i], 'MODIFY') && isWord(statement, tokens[i + 2], 'COLUMN'))) continue;
    const name = tokens[i + 4];
    if (name?.kind !== 'identifier') continue;
    let end = tokens.findIndex((token, j) => j > i + 4 && token.kind === 'comma' && token.depth === 0);
    if (end === -1) end = tokens.length;
    const last = tokens[end - 1] as Token;
    definitions.set(identifierName(statement, name), statement.slice(name.start, last.end));
  }
  return definitions;
}
