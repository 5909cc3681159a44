/**
 * Oracle's lexical rules, from the SQL Language Reference:
 * - "Database Object Names and Qualifiers"
 *   (https://docs.oracle.com/en/database/oracle/oracle-database/19/sqlrf/Database-Object-Names-and-Qualifiers.html):
 *   a nonquoted identifier begins with a letter and holds letters, digits, _, $ and #, and is
 *   read in upper case; a quoted identifier keeps its case and may hold any character but the
 *   double quotation mark and the null character; "" (zero length) is ORA-01741.
 * - "Text Literals" (https://docs.oracle.com/en/database/oracle/oracle-database/19/sqlrf/Literals.html):
 *   '...' with '' for one quote, N'...' national, q'X...X' alternative quoting where X is any
 *   character but space, tab and return, and the brackets [ { < ( close with ] } > ); no backslash
 *   escapes; a literal is at most 4000 bytes (ORA-01704) with MAX_STRING_SIZE = STANDARD.
 * - Comments: -- to the end of the line and /* *\/.
 * - Binds: :name or :1.
 */
import { EngineError, type Token } from '../kit/tokens.js';

export function oraError(code: number, message: string): EngineError {
  const padded = String(code).padStart(5, '0');
  return new EngineError(padded, '', `ORA-${padded}: ${message}`);
}

const SYMBOLS = ['||', '<>', '!=', '^=', '<=', '>=', '=>', '=', '<', '>', '.', ',', '(', ')', ';', '*', '+', '-', '/'];
const CLOSING: Record<string, string> = { '[': ']', '{': '}', '<': '>', '(': ')' };
const MAX_LITERAL_BYTES = 4000;

function literal(value: string, pos: number): Token {
  if (Buffer.byteLength(value, 'utf8') > MAX_LITERAL_BYTES) throw oraError(1704, 'string literal too long');
  return { kind: 'string', value, pos };
}

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
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) throw oraError(1756, 'quoted string not properly terminated');
      i = end + 2;
      continue;
    }
    const start = i;
    // q'X...X' and Nq'X...X': the alternative quoting mechanism.
    const qPrefix = /^[nN]?[qQ]'/.exec(sql.slice(i, i + 3));
    if (qPrefix) {
      const open = sql[i + qPrefix[0].length];
      if (open === undefined || /[\s]/.test(open)) throw oraError(1756, 'quoted string not properly terminated');
      const close = CLOSING[open] ?? open;
      const bodyStart = i + qPrefix[0].length + 1;
      const end = sql.indexOf(`${close}'`, bodyStart);
      if (end === -1) throw oraError(1756, 'quoted string not properly terminated');
      tokens.push(literal(sql.slice(bodyStart, end), start));
      i = end + 2;
      continue;
    }
    if (char === "'" || ((char === 'n' || char === 'N') && sql[i + 1] === "'")) {
      i += char === "'" ? 1 : 2;
      let value = '';
      for (;;) {
        if (i >= n) throw oraError(1756, 'quoted string not properly terminated');
        const c = sql[i] as string;
        if (c === "'") {
          if (sql[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += c;
        i++;
      }
      tokens.push(literal(value, start));
      continue;
    }
    if (char === '"') {
      const end = sql.indexOf('"', i + 1);
      if (end === -1) throw oraError(1740, 'missing double quote in identifier');
      const value = sql.slice(i + 1, end);
      if (value === '') throw oraError(1741, 'illegal zero-length identifier');
      if (value.includes('\0')) throw oraError(911, 'invalid character');
      tokens.push({ kind: 'ident', value, quoted: true, pos: start });
      i = end + 1;
      continue;
    }
    if (/[A-Za-z]/.test(char)) {
      let end = i + 1;
      while (end < n && /[A-Za-z0-9_$#]/.test(sql[end] as string)) end++;
      tokens.push({ kind: 'ident', value: sql.slice(i, end).toUpperCase(), quoted: false, pos: start });
      i = end;
      continue;
    }
    if (/[0-9]/.test(char)) {
      let end = i + 1;
      while (end < n && /[0-9.]/.test(sql[end] as string)) end++;
      tokens.push({ kind: 'number', value: sql.slice(i, end), pos: start });
      i = end;
      continue;
    }
    if (char === ':') {
      let end = i + 1;
      while (end < n && /[A-Za-z0-9_$#]/.test(sql[end] as string)) end++;
      if (end === i + 1) throw oraError(911, 'invalid character');
      tokens.push({ kind: 'bind', value: sql.slice(i + 1, end).toUpperCase(), pos: start });
      i = end;
      continue;
    }
    const symbol = SYMBOLS.find((candidate) => sql.startsWith(candidate, i));
    if (!symbol) throw oraError(911, 'invalid character');
    tokens.push({ kind: 'symbol', value: symbol === '^=' ? '<>' : symbol, pos: start });
    i += symbol.length;
  }
  tokens.push({ kind: 'end', value: '', pos: n });
  return tokens;
}
