/**
 * Athena's DDL lexer, which is Hive's (Athena: "To escape reserved keywords in DDL statements,
 * enclose them in backticks", https://docs.aws.amazon.com/athena/latest/ug/reserved-words.html;
 * DDL reference https://docs.aws.amazon.com/athena/latest/ug/ddl-reference.html). The rules are
 * apache/hive parser/src/java/org/apache/hadoop/hive/ql/parse/HiveLexer.g:
 * - Identifier: (Letter | Digit) (Letter | Digit | '_')*, or `...` with `` as the escape
 *   (QuotedIdentifier); names are case-insensitive and Glue stores them in lower case;
 * - StringLiteral: ( '\'' (~('\''|'\\') | ('\\' .))* '\'' | '"' ... '"' )+ : backslash escapes,
 *   and adjacent literals with nothing between them form ONE token, so 'it''s' is the literal
 *   "its" (a doubled quote is never a quote);
 * - WS, LINE_COMMENT (--) and /* *\/ comments are hidden.
 * The literal's value is BaseSemanticAnalyzer.unescapeSQLString's (apache/hive
 * ql/src/java/org/apache/hadoop/hive/ql/parse/BaseSemanticAnalyzer.java).
 */
import { EngineError, type Token } from '../kit/tokens.js';

/** A parse error as Athena reports it: InvalidRequestException from StartQueryExecution. */
export function parseError(sql: string, pos: number, detail: string): EngineError {
  const before = sql.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return new EngineError('InvalidRequestException', 'INVALID_INPUT', `line ${line}:${col}: ${detail}`);
}

/** unescapeSQLString: the characters between the quotes of each part, escapes resolved. */
export function unescapeHiveString(text: string): string {
  let enclosure: string | null = null;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (enclosure === null) {
      // Outside a part (between two adjacent parts): the next quote opens one.
      if (c === "'" || c === '"') enclosure = c;
      continue;
    }
    if (c === enclosure) {
      enclosure = null;
      continue;
    }
    if (c === '\\' && i + 6 < text.length && text[i + 1] === 'u') {
      out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
      i += 5;
      continue;
    }
    if (c === '\\' && i + 4 < text.length && /^[01][0-7][0-7]$/.test(text.slice(i + 1, i + 4))) {
      out += String.fromCharCode(parseInt(text.slice(i + 1, i + 4), 8));
      i += 3;
      continue;
    }
    if (c === '\\' && i + 2 < text.length) {
      const n = text[i + 1] as string;
      const escapes: Record<string, string> = { '0': '\0', "'": "'", '"': '"', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\x1a', '\\': '\\', '%': '\\%', _: '\\_' };
      out += escapes[n] ?? n;
      i++;
      continue;
    }
    out += c;
  }
  return out;
}

/** The end of one quoted part starting at `start` (its closing quote + 1), or -1 if unterminated. */
function partEnd(sql: string, start: number): number {
  const quote = sql[start];
  for (let i = start + 1; i < sql.length; i++) {
    if (sql[i] === '\\') {
      i++;
      continue;
    }
    if (sql[i] === quote) return i + 1;
  }
  return -1;
}

const WORD = /[A-Za-z0-9][A-Za-z0-9_]*/y;
const SYMBOL = /<=>|<>|!=|<=|>=|==|[.,;:()=<>[\]{}+\-*/%&|^~?$]/y;

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n' && sql[i] !== '\r') i++;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw parseError(sql, i, "mismatched input '<EOF>': unterminated comment");
      i = end + 2;
      continue;
    }
    if (c === "'" || c === '"') {
      const start = i;
      // Adjacent parts are one StringLiteral.
      while (sql[i] === "'" || sql[i] === '"') {
        const end = partEnd(sql, i);
        if (end < 0) throw parseError(sql, start, `token recognition error at: '${sql.slice(start, start + 20)}': unterminated string literal`);
        i = end;
      }
      tokens.push({ kind: 'string', value: unescapeHiveString(sql.slice(start, i)), pos: start });
      continue;
    }
    if (c === '`') {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) throw parseError(sql, i, 'unterminated quoted identifier');
        if (sql[j] === '`') {
          if (sql[j + 1] === '`') {
            value += '`';
            j += 2;
            continue;
          }
          break;
        }
        value += sql[j++];
      }
      if (value === '') throw parseError(sql, i, 'empty quoted identifier');
      tokens.push({ kind: 'ident', value: value.toLowerCase(), quoted: true, pos: i });
      i = j + 1;
      continue;
    }
    WORD.lastIndex = i;
    const word = WORD.exec(sql);
    if (word) {
      const text = word[0];
      tokens.push(/^[0-9]+$/.test(text) ? { kind: 'number', value: text, pos: i } : { kind: 'ident', value: text.toLowerCase(), quoted: false, pos: i });
      i += text.length;
      continue;
    }
    SYMBOL.lastIndex = i;
    const symbol = SYMBOL.exec(sql);
    if (symbol) {
      tokens.push({ kind: 'symbol', value: symbol[0], pos: i });
      i += symbol[0].length;
      continue;
    }
    throw parseError(sql, i, `token recognition error at: '${c}'`);
  }
  tokens.push({ kind: 'end', value: '', pos: sql.length });
  return tokens;
}
