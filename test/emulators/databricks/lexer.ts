/**
 * Databricks SQL lexer, after open-source Spark's SqlBaseLexer.g4 (Databricks' parser is a closed
 * superset): backquoted identifiers with `` `` `` as the escape, string literals in '...' or "..."
 * with backslash escapes (never a doubled quote), raw strings r'...', -- and /* *\/ comments.
 * Identifiers are case-insensitive; keywords are matched upper-cased.
 */

export type Token =
  | { kind: 'word'; text: string; upper: string; at: number }
  | { kind: 'quoted'; text: string; at: number }
  | { kind: 'string'; text: string; at: number }
  | { kind: 'number'; text: string; at: number }
  | { kind: 'symbol'; text: string; at: number }
  | { kind: 'end'; text: ''; at: number };

export class DatabricksSqlError extends Error {
  constructor(
    readonly errorClass: string,
    message: string,
    readonly sqlState: string,
  ) {
    super(`[${errorClass}] ${message} SQLSTATE: ${sqlState}`);
  }
}

export function syntaxError(near: string): DatabricksSqlError {
  return new DatabricksSqlError('PARSE_SYNTAX_ERROR', `Syntax error at or near '${near}'.`, '42601');
}

/**
 * Spark's unescapeSQLString (sql/catalyst/.../util/SparkParserUtils.scala): \ooo (three octal
 * digits, the first 0-3), \0 \b \n \r \t \Z \' \" \\ \% \_ and \uXXXX; any other \x is x.
 */
const ESCAPES: Record<string, string> = { '0': '\0', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\x1a', '%': '\\%', _: '\\_' };

function readString(sql: string, start: number, raw: boolean): { text: string; end: number } {
  const quote = sql[start] as string;
  const parts: string[] = [];
  let i = start + 1;
  let chunk = i;
  for (;;) {
    if (i >= sql.length) throw new DatabricksSqlError('PARSE_SYNTAX_ERROR', `Syntax error at or near '${sql.slice(start, start + 20)}': unclosed string literal.`, '42601');
    const c = sql[i];
    if (c === quote) break;
    if (c === '\\' && !raw) {
      parts.push(sql.slice(chunk, i));
      const next = sql[i + 1] ?? '';
      if (/^[0-3][0-7]{2}$/.test(sql.slice(i + 1, i + 4))) {
        parts.push(String.fromCharCode(parseInt(sql.slice(i + 1, i + 4), 8)));
        i += 4;
      } else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(sql.slice(i + 2, i + 6))) {
        parts.push(String.fromCharCode(parseInt(sql.slice(i + 2, i + 6), 16)));
        i += 6;
      } else {
        parts.push(ESCAPES[next] ?? next);
        i += 2;
      }
      chunk = i;
      continue;
    }
    // A raw string (SqlBaseLexer's R'...' rule: (~'\'')*) ends at the first quote: a backslash is
    // just a character there.
    i++;
  }
  parts.push(sql.slice(chunk, i));
  return { text: parts.join(''), end: i + 1 };
}

const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /[0-9]+(\.[0-9]+)?/y;
const SYMBOL = /<>|!=|<=|>=|[(),.;=*<>@:-]/y;

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      const eol = sql.indexOf('\n', i);
      i = eol === -1 ? sql.length : eol + 1;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      if (close === -1) throw new DatabricksSqlError('UNCLOSED_BRACKETED_COMMENT', 'Found an unclosed bracketed comment. Please, append */ at the end of the comment.', '42601');
      i = close + 2;
      continue;
    }
    if ((c === 'r' || c === 'R') && (sql[i + 1] === "'" || sql[i + 1] === '"')) {
      const { text, end } = readString(sql, i + 1, true);
      tokens.push({ kind: 'string', text, at: i });
      i = end;
      continue;
    }
    if (c === "'" || c === '"') {
      const { text, end } = readString(sql, i, false);
      tokens.push({ kind: 'string', text, at: i });
      i = end;
      continue;
    }
    if (c === '`') {
      let text = '';
      let j = i + 1;
      for (;;) {
        const close = sql.indexOf('`', j);
        if (close === -1) throw syntaxError(sql.slice(i, i + 20));
        text += sql.slice(j, close);
        if (sql[close + 1] === '`') {
          text += '`';
          j = close + 2;
          continue;
        }
        j = close + 1;
        break;
      }
      tokens.push({ kind: 'quoted', text, at: i });
      i = j;
      continue;
    }
    WORD.lastIndex = i;
    const word = WORD.exec(sql);
    if (word) {
      tokens.push({ kind: 'word', text: word[0], upper: word[0].toUpperCase(), at: i });
      i += word[0].length;
      continue;
    }
    NUMBER.lastIndex = i;
    const number = NUMBER.exec(sql);
    if (number) {
      tokens.push({ kind: 'number', text: number[0], at: i });
      i += number[0].length;
      continue;
    }
    SYMBOL.lastIndex = i;
    const symbol = SYMBOL.exec(sql);
    if (!symbol) throw syntaxError(c);
    tokens.push({ kind: 'symbol', text: symbol[0], at: i });
    i += symbol[0].length;
  }
  tokens.push({ kind: 'end', text: '', at: sql.length });
  return tokens;
}
