/**
 * GoogleSQL literals, both ways: quoting what metaform writes, and reading the literals
 * INFORMATION_SCHEMA hands back in `option_value` (a description as `"text"`, labels as
 * `[STRUCT("k", "v")]`). Rules from the lexical structure page,
 * https://cloud.google.com/bigquery/docs/reference/standard-sql/lexical :
 * - quoted strings are '...' or "...", triple-quoted '''...''' or """...""" (the only ones that may
 *   hold a newline), with an r/R prefix for raw strings and b/B for bytes;
 * - escapes are \a \b \f \n \r \t \v \\ \? \" \' \` \ooo \xhh \uhhhh \Uhhhhhhhh;
 * - a doubled quote is no escape: 'it''s' is two literals side by side, a syntax error;
 * - quoted identifiers are in backquotes and take the same escapes.
 */

const ESCAPES: Record<string, string> = { a: '\u0007', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '?': '?', '"': '"', "'": "'", '`': '`' };
const WRITTEN: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Escapes `value` for the inside of a quoted literal or identifier closed by `quote`. */
function escapeBody(value: string, quote: string): string {
  let out = '';
  for (const char of value) {
    const written = WRITTEN[char];
    if (written !== undefined) out += written;
    else if (char === quote) out += `\\${quote}`;
    else {
      const code = char.codePointAt(0) ?? 0;
      // Other control characters as \xhh, so a statement never carries them raw.
      out += code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : char;
    }
  }
  return out;
}

/** A string literal in single quotes (or NULL): backslash escapes only, never a doubled quote. */
export function quoteBigQueryLiteral(value: string | null): string {
  return value === null ? 'NULL' : `'${escapeBody(value, "'")}'`;
}

/** An identifier in backquotes, with the string escapes (project ids with `-` need them). */
export function quoteBigQueryIdentifier(name: string): string {
  return `\`${escapeBody(name, '`')}\``;
}

/** A value an option literal denotes: STRUCTs and ARRAYs as lists. */
export type OptionValue = string | number | boolean | null | OptionValue[];

export class LiteralError extends Error {
  override name = 'LiteralError';
}

/** Reads one GoogleSQL literal expression, as `option_value` renders it. */
export function parseOptionValue(text: string): OptionValue {
  const reader = new LiteralReader(text);
  const value = reader.value();
  reader.skipSpace();
  if (!reader.done()) throw reader.fail('unexpected text after the value');
  return value;
}

/** The labels an `option_value` of type ARRAY<STRUCT<STRING, STRING>> holds. */
export function labelsOf(value: OptionValue): Record<string, string> {
  const labels: Record<string, string> = {};
  if (value === null) return labels;
  if (!Array.isArray(value)) throw new LiteralError(`labels are not an ARRAY: ${JSON.stringify(value)}`);
  for (const entry of value) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') throw new LiteralError(`a label is not a STRUCT of two strings: ${JSON.stringify(entry)}`);
    labels[entry[0]] = entry[1] === null ? '' : String(entry[1]);
  }
  return labels;
}

class LiteralReader {
  private at = 0;

  constructor(private readonly text: string) {}

  done(): boolean {
    return this.at >= this.text.length;
  }

  fail(problem: string): LiteralError {
    return new LiteralError(`${problem} at offset ${this.at} of ${JSON.stringify(this.text.slice(0, 200))}`);
  }

  skipSpace(): void {
    while (!this.done() && /\s/.test(this.text[this.at] ?? '')) this.at++;
  }

  private word(): string {
    const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.at, this.at + 64));
    return match ? match[0] : '';
  }

  private expect(symbol: string): void {
    this.skipSpace();
    if (this.text[this.at] !== symbol) throw this.fail(`expected ${symbol}`);
    this.at++;
  }

  /** A type after ARRAY or STRUCT: `<...>`, nested, skipped (the values carry what we need). */
  private skipTypeParameters(): void {
    this.skipSpace();
    if (this.text[this.at] !== '<') return;
    let depth = 0;
    do {
      const char = this.text[this.at++];
      if (char === undefined) throw this.fail('unterminated type');
      if (char === '<') depth++;
      else if (char === '>') depth--;
    } while (depth > 0);
  }

  private list(close: string): OptionValue[] {
    const items: OptionValue[] = [];
    this.skipSpace();
    if (this.text[this.at] === close) {
      this.at++;
      return items;
    }
    for (;;) {
      items.push(this.value());
      this.skipSpace();
      // A STRUCT field may be named: STRUCT("k" AS key, ...).
      if (/^AS\b/i.test(this.text.slice(this.at, this.at + 3))) {
        this.at += 2;
        this.skipSpace();
        if (!this.word()) throw this.fail('expected a field name');
        this.at += this.word().length;
        this.skipSpace();
      }
      const char = this.text[this.at++];
      if (char === close) return items;
      if (char !== ',') throw this.fail(`expected , or ${close}`);
    }
  }

  value(): OptionValue {
    this.skipSpace();
    const char = this.text[this.at];
    if (char === '[') {
      this.at++;
      return this.list(']');
    }
    if (char === '(') {
      this.at++;
      return this.list(')');
    }
    if (char !== undefined && /[-+0-9.]/.test(char)) {
      const match = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(this.text.slice(this.at));
      if (!match) throw this.fail('expected a number');
      this.at += match[0].length;
      return Number(match[0]);
    }
    const word = this.word();
    const prefix = /^(?:r|b|rb|br)$/i.test(word) && /['"]/.test(this.text[this.at + word.length] ?? '') ? word : '';
    if (prefix || char === "'" || char === '"') {
      this.at += prefix.length;
      return this.string(/r/i.test(prefix));
    }
    const upper = word.toUpperCase();
    this.at += word.length;
    if (upper === 'NULL') return null;
    if (upper === 'TRUE' || upper === 'FALSE') return upper === 'TRUE';
    if (upper === 'ARRAY') {
      this.skipTypeParameters();
      this.expect('[');
      return this.list(']');
    }
    if (upper === 'STRUCT') {
      this.skipTypeParameters();
      this.expect('(');
      return this.list(')');
    }
    // A typed literal (TIMESTAMP "...", DATE '...', JSON '...'): its string.
    if (word !== '') return this.value();
    throw this.fail('expected a literal');
  }

  private string(raw: boolean): string {
    const quote = this.text[this.at] as string;
    const triple = this.text.startsWith(quote.repeat(3), this.at);
    const close = triple ? quote.repeat(3) : quote;
    this.at += close.length;
    let out = '';
    for (;;) {
      if (this.done()) throw this.fail('unterminated string');
      if (this.text.startsWith(close, this.at)) {
        this.at += close.length;
        return out;
      }
      const char = this.text[this.at] as string;
      if (!triple && (char === '\n' || char === '\r')) throw this.fail('a newline in a quoted string');
      if (char !== '\\') {
        const point = this.text.codePointAt(this.at) ?? 0;
        const whole = String.fromCodePoint(point);
        out += whole;
        this.at += whole.length;
        continue;
      }
      const next = this.text[this.at + 1];
      if (next === undefined) throw this.fail('unterminated escape');
      if (raw) {
        // Raw: a backslash and the character after it both stay.
        out += `\\${next}`;
        this.at += 2;
        continue;
      }
      this.at += 2;
      const simple = ESCAPES[next];
      if (simple !== undefined) out += simple;
      else if (/[0-7]/.test(next)) out += this.codePoint(this.text.slice(this.at - 1, this.at + 2), 8, 3);
      else if (next === 'x' || next === 'X') out += this.codePoint(this.text.slice(this.at, this.at + 2), 16, 2, 2);
      else if (next === 'u') out += this.codePoint(this.text.slice(this.at, this.at + 4), 16, 4, 4);
      else if (next === 'U') out += this.codePoint(this.text.slice(this.at, this.at + 8), 16, 8, 8);
      else throw this.fail(`illegal escape \\${next}`);
    }
  }

  private codePoint(digits: string, radix: number, length: number, advance = length - 1): string {
    const pattern = radix === 8 ? /^[0-7]{3}$/ : /^[0-9a-fA-F]+$/;
    if (digits.length !== length || !pattern.test(digits)) throw this.fail('illegal escape');
    this.at += advance;
    return String.fromCodePoint(parseInt(digits, radix));
  }
}
