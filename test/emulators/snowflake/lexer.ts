/**
 * Snowflake's lexical rules, as documented: unquoted identifiers fold to upper case and may hold
 * letters, digits, _ and $; "quoted" identifiers keep their case, with "" for a quote; string
 * constants in '...' take '' and backslash escape sequences (\' \" \\ \b \f \n \r \t \0, octal
 * \ooo, hex \xhh, unicode \uhhhh; any other \c is c); $$...$$ strings have no escapes; comments
 * are --, // and /* *\/; binds are ?, :1 and :name.
 */
import { EngineError, type Token } from '../kit/tokens.js';

/** Snowflake's "syntax error line L at position P unexpected 'X'." */
export function syntaxError(sql: string, pos: number, found: string): EngineError {
  const before = sql.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - (before.lastIndexOf('\n') + 1);
  const what = found === '' ? "unexpected '<EOF>'" : `unexpected '${found}'`;
  return new EngineError('001003', '42000', `SQL compilation error:\nsyntax error line ${line} at position ${column} ${what}.`);
}

const SYMBOLS = ['||', '<>', '!=', '<=', '>=', '=>', '::', '=', '<', '>', '.', ',', '(', ')', ';', '*', '+', '-', '/', '[', ']'];

/**
 * `quotedIgnoreCase`: the QUOTED_IDENTIFIERS_IGNORE_CASE parameter; when TRUE, letters in
 * double-quoted identifiers are stored and resolved in upper case
 * (docs.snowflake.com/en/sql-reference/parameters#quoted-identifiers-ignore-case).
 */
export function lex(sql: string, quotedIgnoreCase = false): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const char = sql[i] as string;
    if (/\s/.test(char)) {
      i++;
      continue;
    }
    if ((char === '-' && sql[i + 1] === '-') || (char === '/' && sql[i + 1] === '/')) {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
      continue;
    }
    if (char === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) throw syntaxError(sql, n, '');
      i = end + 2;
      continue;
    }
    const start = i;
    if (char === "'") {
      const { value, end } = singleQuoted(sql, i);
      tokens.push({ kind: 'string', value, pos: start });
      i = end;
      continue;
    }
    if (char === '$' && sql[i + 1] === '$') {
      const end = sql.indexOf('$$', i + 2);
      if (end === -1) throw syntaxError(sql, n, '');
      tokens.push({ kind: 'string', value: sql.slice(i + 2, end), pos: start });
      i = end + 2;
      continue;
    }
    if (char === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= n) throw syntaxError(sql, n, '');
        if (sql[i] === '"') {
          if (sql[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += sql[i++];
      }
      if (value === '') throw syntaxError(sql, start, '""');
      tokens.push({ kind: 'ident', value: quotedIgnoreCase ? value.toUpperCase() : value, quoted: true, pos: start });
      continue;
    }
    if (/[A-Za-z_]/.test(char)) {
      let end = i + 1;
      while (end < n && /[A-Za-z0-9_$]/.test(sql[end] as string)) end++;
      tokens.push({ kind: 'ident', value: sql.slice(i, end).toUpperCase(), quoted: false, pos: start });
      i = end;
      continue;
    }
    if (/[0-9]/.test(char)) {
      const match = /^[0-9]+(\.[0-9]+)?/.exec(sql.slice(i, i + 64)) as RegExpExecArray;
      tokens.push({ kind: 'number', value: match[0], pos: start });
      i += match[0].length;
      continue;
    }
    if (char === '?') {
      tokens.push({ kind: 'bind', value: '?', pos: start });
      i++;
      continue;
    }
    if (char === ':' && /[A-Za-z0-9_]/.test(sql[i + 1] ?? '')) {
      const match = /^:[A-Za-z0-9_]+/.exec(sql.slice(i, i + 256)) as RegExpExecArray;
      tokens.push({ kind: 'bind', value: match[0], pos: start });
      i += match[0].length;
      continue;
    }
    const symbol = SYMBOLS.find((candidate) => sql.startsWith(candidate, i));
    if (!symbol) throw syntaxError(sql, i, char);
    tokens.push({ kind: 'symbol', value: symbol, pos: start });
    i += symbol.length;
  }
  tokens.push({ kind: 'end', value: '', pos: n });
  return tokens;
}

const SIMPLE_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '0': '\0' };

function singleQuoted(sql: string, open: number): { value: string; end: number } {
  const parts: string[] = [];
  let i = open + 1;
  let runStart = i;
  for (;;) {
    if (i >= sql.length) throw syntaxError(sql, sql.length, '');
    const char = sql[i];
    if (char === "'") {
      parts.push(sql.slice(runStart, i));
      if (sql[i + 1] === "'") {
        parts.push("'");
        i += 2;
        runStart = i;
        continue;
      }
      return { value: parts.join(''), end: i + 1 };
    }
    if (char === '\\') {
      parts.push(sql.slice(runStart, i));
      const next = sql[i + 1];
      if (next === undefined) throw syntaxError(sql, sql.length, '');
      const octal = /^[0-7]{3}/.exec(sql.slice(i + 1, i + 4));
      const hex = next === 'x' ? /^[0-9A-Fa-f]{2}/.exec(sql.slice(i + 2, i + 4)) : null;
      const unicode = next === 'u' ? /^[0-9A-Fa-f]{4}/.exec(sql.slice(i + 2, i + 6)) : null;
      if (octal) {
        parts.push(String.fromCharCode(Number.parseInt(octal[0], 8)));
        i += 4;
      } else if (hex) {
        parts.push(String.fromCharCode(Number.parseInt(hex[0], 16)));
        i += 4;
      } else if (unicode) {
        parts.push(String.fromCharCode(Number.parseInt(unicode[0], 16)));
        i += 6;
      } else {
        parts.push(SIMPLE_ESCAPES[next] ?? next);
        i += 2;
      }
      runStart = i;
      continue;
    }
    i++;
  }
}
