/**
 * The tokens every emulator's lexer produces. Lexing is per system (quoting, folding, escapes);
 * what comes after it (the SELECT parser, the DDL grammars) works on these.
 */
export type Token =
  /** An identifier: `value` is the name as the engine stores it (folded when unquoted). */
  | { kind: 'ident'; value: string; quoted: boolean; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'number'; value: string; pos: number }
  /** Punctuation and operators: . , ( ) ; = <> != < > <= >= * + - / || */
  | { kind: 'symbol'; value: string; pos: number }
  /** A bind placeholder: `?`, `:1` or `:name`. */
  | { kind: 'bind'; value: string; pos: number }
  | { kind: 'end'; value: ''; pos: number };

/** An error the emulator answers with the engine's code and SQL state. */
export class EngineError extends Error {
  constructor(
    readonly code: string,
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
  }
}

/** A cursor over tokens with the helpers every recursive-descent grammar here uses. */
export class TokenStream {
  private index = 0;

  constructor(
    readonly tokens: readonly Token[],
    /** Builds the engine's syntax error for an unexpected token. */
    private readonly syntaxError: (token: Token, expected?: string) => EngineError,
  ) {}

  peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)] as Token;
  }

  next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index++;
    return token;
  }

  /** Whether the next token is the unquoted keyword (keywords are never quoted identifiers). */
  isKeyword(word: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'ident' && !token.quoted && token.value.toUpperCase() === word;
  }

  acceptKeyword(...words: string[]): boolean {
    for (let i = 0; i < words.length; i++) if (!this.isKeyword(words[i] ?? '', i)) return false;
    for (let i = 0; i < words.length; i++) this.next();
    return true;
  }

  expectKeyword(...words: string[]): void {
    for (const word of words) {
      if (!this.isKeyword(word)) throw this.syntaxError(this.peek(), word);
      this.next();
    }
  }

  isSymbol(symbol: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'symbol' && token.value === symbol;
  }

  acceptSymbol(symbol: string): boolean {
    if (!this.isSymbol(symbol)) return false;
    this.next();
    return true;
  }

  expectSymbol(symbol: string): void {
    if (!this.acceptSymbol(symbol)) throw this.syntaxError(this.peek(), `'${symbol}'`);
  }

  expectIdentifier(): Extract<Token, { kind: 'ident' }> {
    const token = this.peek();
    if (token.kind !== 'ident') throw this.syntaxError(token, 'an identifier');
    this.next();
    return token;
  }

  expectString(): string {
    const token = this.peek();
    if (token.kind !== 'string') throw this.syntaxError(token, 'a string literal');
    this.next();
    return token.value;
  }

  /** A dotted name: a, a.b, a.b.c ... */
  qualifiedName(): string[] {
    const parts = [this.expectIdentifier().value];
    while (this.isSymbol('.') && this.peek(1).kind === 'ident') {
      this.next();
      parts.push(this.expectIdentifier().value);
    }
    return parts;
  }

  atEnd(): boolean {
    while (this.isSymbol(';')) this.next();
    return this.peek().kind === 'end';
  }

  expectEnd(): void {
    if (!this.atEnd()) throw this.syntaxError(this.peek());
  }

  fail(expected?: string): EngineError {
    return this.syntaxError(this.peek(), expected);
  }
}
