/**
 * T-SQL's lexical rules, as documented:
 * - string constants are '...' or N'...' (Unicode), a quote inside written twice; backslash is an
 *   ordinary character (https://learn.microsoft.com/sql/t-sql/data-types/constants-transact-sql);
 * - delimited identifiers are [...] with ] written twice, or "..." with " written twice when
 *   QUOTED_IDENTIFIER is ON, which tedious sets at login; regular identifiers start with a letter,
 *   _, @ or # and go on with letters, digits, @, $, # and _; they are not folded: names compare by
 *   the database's collation (https://learn.microsoft.com/sql/relational-databases/databases/database-identifiers);
 * - comments are -- to the end of the line and /* ... *\/, which nest
 *   (https://learn.microsoft.com/sql/t-sql/language-elements/slash-star-comment-transact-sql).
 * Errors: 105 for an unclosed quotation mark, 102 for anything else unexpected (the numbers
 * SQL Server answers with; UNCONFIRMED wording).
 */
import { EngineError, type Token } from '../kit/tokens.js';

/** A T-SQL error: its number, severity (class) and text. */
export class SqlServerError extends EngineError {
  constructor(
    readonly number: number,
    message: string,
    readonly severity = 16,
    readonly state = 1,
  ) {
    super(String(number), '', message);
  }
}

export function incorrectSyntax(near: string): SqlServerError {
  return new SqlServerError(102, near === '' ? 'Incorrect syntax near the end of the batch.' : `Incorrect syntax near '${near}'.`, 15);
}

function unclosed(rest: string): SqlServerError {
  return new SqlServerError(105, `Unclosed quotation mark after the character string '${rest}'.`, 15);
}

const SYMBOLS = ['::', '<>', '!=', '<=', '>=', '=', '<', '>', '.', ',', '(', ')', ';', '*', '+', '-', '/', '%'];
const IDENT_START = /[\p{L}_@#]/u;
const IDENT_PART = /[\p{L}\p{Nd}_@#$]/u;

export function lex(sql: string): Token[] {
  const tokens: Token[] = [];
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const char = sql[i] as string;
    if (/\s/.test(char)) {
      i++;
      continue;
    }
    if (char === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
      continue;
    }
    if (char === '/' && sql[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (depth > 0) {
        if (i >= n) throw new SqlServerError(113, "Missing end comment mark '*/'.", 15);
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      continue;
    }
    const start = i;
    if (char === "'" || ((char === 'N' || char === 'n') && sql[i + 1] === "'")) {
      const { value, end } = delimited(sql, char === "'" ? i : i + 1, "'", "'");
      tokens.push({ kind: 'string', value, pos: start });
      i = end;
      continue;
    }
    if (char === '[') {
      const { value, end } = delimited(sql, i, '[', ']');
      tokens.push({ kind: 'ident', value, quoted: true, pos: start });
      i = end;
      continue;
    }
    if (char === '"') {
      const { value, end } = delimited(sql, i, '"', '"');
      tokens.push({ kind: 'ident', value, quoted: true, pos: start });
      i = end;
      continue;
    }
    if (/[0-9]/.test(char)) {
      let end = i;
      while (end < n && /[0-9.]/.test(sql[end] as string)) end++;
      tokens.push({ kind: 'number', value: sql.slice(i, end), pos: start });
      i = end;
      continue;
    }
    if (IDENT_START.test(char)) {
      let end = i + 1;
      while (end < n && IDENT_PART.test(sql[end] as string)) end++;
      tokens.push({ kind: 'ident', value: sql.slice(i, end), quoted: false, pos: start });
      i = end;
      continue;
    }
    const symbol = SYMBOLS.find((candidate) => sql.startsWith(candidate, i));
    if (!symbol) throw incorrectSyntax(char);
    tokens.push({ kind: 'symbol', value: symbol, pos: start });
    i += symbol.length;
  }
  tokens.push({ kind: 'end', value: '', pos: n });
  return tokens;
}

/** A '...', [...] or "..." token from its opening character: the close written twice is one. */
function delimited(sql: string, open: number, _opener: string, close: string): { value: string; end: number } {
  let value = '';
  let i = open + 1;
  for (;;) {
    const next = sql.indexOf(close, i);
    if (next === -1) throw unclosed(sql.slice(open + 1));
    value += sql.slice(i, next);
    if (sql[next + 1] === close) {
      value += close;
      i = next + 2;
      continue;
    }
    return { value, end: next + 1 };
  }
}

/** Splits a batch's tokens into statements: at `;`, and before a keyword that starts a new statement. */
export function splitStatements(tokens: readonly Token[]): Token[][] {
  const statements: Token[][] = [];
  let current: Token[] = [];
  const end = tokens[tokens.length - 1] as Token;
  const flush = () => {
    if (current.length > 0) statements.push([...current, { kind: 'end', value: '', pos: end.pos }]);
    current = [];
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    if (token.kind === 'end') break;
    if (token.kind === 'symbol' && token.value === ';') {
      flush();
      continue;
    }
    if (current.length > 0 && startsStatement(tokens, i, current)) flush();
    current.push(token);
  }
  flush();
  return statements;
}

const STATEMENT_KEYWORDS = new Set(['SELECT', 'EXEC', 'EXECUTE', 'SET', 'BEGIN', 'COMMIT', 'ROLLBACK', 'ALTER', 'CREATE', 'GRANT', 'USE', 'DECLARE', 'DROP']);

/**
 * T-SQL does not require `;` between statements: a statement keyword outside parentheses starts
 * the next one, except where it continues the current statement (SELECT in CREATE VIEW ... AS,
 * permission names in GRANT).
 */
function startsStatement(tokens: readonly Token[], i: number, current: readonly Token[]): boolean {
  const token = tokens[i] as Token;
  if (token.kind !== 'ident' || token.quoted || !STATEMENT_KEYWORDS.has(token.value.toUpperCase())) return false;
  let depth = 0;
  for (const previous of current) {
    if (previous.kind === 'symbol' && previous.value === '(') depth++;
    if (previous.kind === 'symbol' && previous.value === ')') depth--;
  }
  if (depth > 0) return false;
  const previous = tokens[i - 1];
  const first = current[0];
  const word = token.value.toUpperCase();
  // CREATE VIEW v AS SELECT ...: the SELECT belongs to the view.
  if (word === 'SELECT' && previous?.kind === 'ident' && previous.value.toUpperCase() === 'AS') return false;
  // GRANT ALTER, SELECT, EXECUTE ... ON ...: permission names, not statements.
  if (first?.kind === 'ident' && ['GRANT', 'DENY', 'REVOKE'].includes(first.value.toUpperCase())) return false;
  return true;
}
