/**
 * GoogleSQL's lexer, by the lexical structure page
 * (https://cloud.google.com/bigquery/docs/reference/standard-sql/lexical):
 * - unquoted identifiers start with a letter or `_`, then letters, digits, `_`; quoted ones are in
 *   backquotes, take the string escapes, and a quoted path `a.b.c` is the three names;
 * - string literals: '...', "...", '''...''' and """...""" (only triple-quoted ones may span
 *   lines), prefixes r/R (raw: a backslash stays), b/B (bytes);
 * - escapes \a \b \f \n \r \t \v \\ \? \" \' \` \ooo \xhh \uhhhh \Uhhhhhhhh; any other is an error;
 * - two literals side by side with nothing between them ('it''s') is the error
 *   "concatenated string literals must be separated by whitespace or comments";
 * - comments: `-- `, `#` to the end of the line, and C-style block comments.
 */
import { EngineError, type Token } from '../kit/tokens.js';

/** BigQuery's invalidQuery error, with the [line:column] position it reports. */
export function syntaxError(text: string, pos: number, message: string): EngineError {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return new EngineError('invalidQuery', '400', `Syntax error: ${message} at [${line}:${column}]`);
}

const SIMPLE: Record<string, string> = { a: '\u0007', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '?': '?', '"': '"', "'": "'", '`': '`' };
const SYMBOLS = ['<>', '!=', '<=', '>=', '||', '.', ',', '(', ')', ';', '=', '<', '>', '*', '+', '-', '/', '[', ']', '@'];

export function lexGoogleSql(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  /** Where the last string literal ended: another starting right there is the concatenation error. */
  let stringEnd = -1;

  const quoted = (start: number, raw: boolean, allowTriple: boolean): { value: string; end: number } => {
    const quote = text[start] as string;
    const triple = allowTriple && text.startsWith(quote.repeat(3), start);
    const close = triple ? quote.repeat(3) : quote;
    let j = start + close.length;
    let value = '';
    for (;;) {
      if (j >= text.length) throw syntaxError(text, start, `Unclosed ${quote === '`' ? 'identifier' : 'string'} literal`);
      if (text.startsWith(close, j)) return { value, end: j + close.length };
      const char = text[j] as string;
      if (!triple && (char === '\n' || char === '\r')) throw syntaxError(text, start, `Unclosed ${quote === '`' ? 'identifier' : 'string'} literal`);
      if (char !== '\\') {
        const point = String.fromCodePoint(text.codePointAt(j) ?? 0);
        value += point;
        j += point.length;
        continue;
      }
      const next = text[j + 1];
      if (next === undefined) throw syntaxError(text, j, 'Unclosed string literal');
      if (raw) {
        value += char + next;
        j += 2;
        continue;
      }
      const simple = SIMPLE[next];
      const hex = (length: number, from: number) => {
        const digits = text.slice(from, from + length);
        if (!new RegExp(`^[0-9a-fA-F]{${length}}$`).test(digits)) throw syntaxError(text, j, `Illegal escape sequence: \\${next}${digits}`);
        return String.fromCodePoint(parseInt(digits, 16));
      };
      if (simple !== undefined) {
        value += simple;
        j += 2;
      } else if (/[0-7]/.test(next)) {
        const digits = text.slice(j + 1, j + 4);
        if (!/^[0-7]{3}$/.test(digits)) throw syntaxError(text, j, `Illegal escape sequence: \\${digits}`);
        value += String.fromCodePoint(parseInt(digits, 8));
        j += 4;
      } else if (next === 'x' || next === 'X') {
        value += hex(2, j + 2);
        j += 4;
      } else if (next === 'u') {
        value += hex(4, j + 2);
        j += 6;
      } else if (next === 'U') {
        value += hex(8, j + 2);
        j += 10;
      } else throw syntaxError(text, j, `Illegal escape sequence: \\${next}`);
    }
  };

  while (i < text.length) {
    const char = text[i] as string;
    if (/\s/.test(char)) {
      i++;
      continue;
    }
    if (text.startsWith('--', i) || char === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw syntaxError(text, i, 'Unclosed comment');
      i = end + 2;
      continue;
    }
    const prefix = /^(?:rb|br|r|b)(?=['"])/i.exec(text.slice(i, i + 3))?.[0] ?? '';
    if (prefix || char === "'" || char === '"') {
      if (i === stringEnd) throw syntaxError(text, i, 'concatenated string literals must be separated by whitespace or comments');
      const literal = quoted(i + prefix.length, /r/i.test(prefix), true);
      tokens.push({ kind: 'string', value: literal.value, pos: i });
      stringEnd = literal.end;
      i = literal.end;
      continue;
    }
    if (char === '`') {
      const literal = quoted(i, false, false);
      if (literal.value === '') throw syntaxError(text, i, 'Invalid empty identifier');
      // A quoted path: `proj.ds.t` names three parts.
      literal.value.split('.').forEach((part, n) => {
        if (n > 0) tokens.push({ kind: 'symbol', value: '.', pos: i });
        tokens.push({ kind: 'ident', value: part, quoted: true, pos: i });
      });
      i = literal.end;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 300))?.[0];
    if (word) {
      tokens.push({ kind: 'ident', value: word, quoted: false, pos: i });
      i += word.length;
      continue;
    }
    const number = /^(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(text.slice(i, i + 100))?.[0];
    if (number) {
      tokens.push({ kind: 'number', value: number, pos: i });
      i += number.length;
      continue;
    }
    const symbol = SYMBOLS.find((candidate) => text.startsWith(candidate, i));
    if (!symbol) throw syntaxError(text, i, `Illegal input character "${char}"`);
    tokens.push({ kind: 'symbol', value: symbol, pos: i });
    i += symbol.length;
  }
  tokens.push({ kind: 'end', value: '', pos: text.length });
  return tokens;
}
