/**
 * The statements the emulator accepts, by Databricks' documented grammar (COMMENT ON, ALTER
 * CATALOG/SCHEMA/TABLE/VIEW ... OWNER TO / SET TAGS / UNSET TAGS / ALTER COLUMN, SET TAG ON /
 * UNSET TAG ON) and Spark's rules for where literals go: a COMMENT or a tag takes exactly one
 * string literal (so `'It''s'`, two adjacent literals, is a syntax error there), while a constant
 * in an expression joins adjacent literals (`'It''s'` = `Its`, as Spark silently does).
 */
import { parseQuery, type Query } from '../kit/select.js';
import { EngineError, TokenStream, type Token as KitToken } from '../kit/tokens.js';
import { DatabricksSqlError, syntaxError, tokenize, type Token } from './lexer.js';

/** The keyword an ALTER names its object with; it must match the object's kind. */
export type RelationKeyword = 'TABLE' | 'VIEW' | 'MATERIALIZED VIEW' | 'STREAMING TABLE';
/** 'COLUMN OF': the relation of SET TAG ON COLUMN, which may be any kind of table or view. */
export type ObjectKeyword = 'CATALOG' | 'SCHEMA' | RelationKeyword | 'COLUMN OF';

export interface Target {
  keyword: ObjectKeyword;
  name: string[];
  column?: string;
}

export type Statement =
  | { type: 'comment'; on: 'CATALOG' | 'SCHEMA' | 'TABLE' | 'COLUMN'; name: string[]; value: string | null }
  | { type: 'column-comment'; target: Target; value: string }
  | { type: 'owner'; target: Target; principal: string }
  | { type: 'set-tags'; target: Target; tags: [string, string][] }
  | { type: 'unset-tags'; target: Target; keys: string[] }
  | { type: 'set-tag-on'; target: Target; key: string; value: string }
  | { type: 'unset-tag-on'; target: Target; key: string }
  | { type: 'select'; query: Query }
  | { type: 'show-schemas'; catalog?: string }
  | { type: 'show-tables'; schema?: string[] }
  | { type: 'describe-schema'; name: string[] }
  | { type: 'describe-table'; name: string[] };

class Parser {
  private index = 0;
  constructor(private readonly tokens: Token[]) {}

  private get token(): Token {
    return this.tokens[this.index] as Token;
  }

  private fail(): never {
    throw syntaxError(this.token.kind === 'end' ? 'end of input' : this.token.text);
  }

  private next(): Token {
    const token = this.token;
    if (token.kind !== 'end') this.index++;
    return token;
  }

  private isWord(...words: string[]): boolean {
    const token = this.token;
    return token.kind === 'word' && words.includes(token.upper);
  }

  private acceptWord(word: string): boolean {
    if (!this.isWord(word)) return false;
    this.index++;
    return true;
  }

  private word(...words: string[]): string {
    const token = this.token;
    if (token.kind !== 'word' || !words.includes(token.upper)) this.fail();
    this.index++;
    return token.upper;
  }

  private acceptSymbol(symbol: string): boolean {
    if (this.token.kind !== 'symbol' || this.token.text !== symbol) return false;
    this.index++;
    return true;
  }

  private symbol(symbol: string): void {
    if (!this.acceptSymbol(symbol)) this.fail();
  }

  identifier(): string {
    const token = this.token;
    if (token.kind === 'quoted') {
      this.index++;
      return token.text;
    }
    if (token.kind === 'word') {
      this.index++;
      return token.text;
    }
    return this.fail();
  }

  private multipartName(): string[] {
    const parts = [this.identifier()];
    while (this.acceptSymbol('.')) parts.push(this.identifier());
    return parts;
  }

  /** Exactly one string literal (a comment, a tag key or value). */
  private stringLiteral(): string {
    const token = this.token;
    if (token.kind !== 'string') this.fail();
    this.index++;
    if (this.token.kind === 'string') this.fail(); // 'It''s' is two literals: not a comment
    return token.text;
  }

  /** A constant in an expression: adjacent string literals are joined, as Spark's stringLit+. */
  private constant(): string | number {
    if (this.token.kind === 'number') return Number(this.next().text);
    if (this.token.kind !== 'string') this.fail();
    let text = '';
    while (this.token.kind === 'string') text += this.next().text;
    return text;
  }

  /** A principal: a backquoted identifier (or a plain one for simple names). */
  private principal(): string {
    return this.identifier();
  }

  /** A tag key or value in SET TAG ON: an identifier (documented as `cost_center` = `hr`). */
  private tagName(): string {
    return this.identifier();
  }

  statement(): Statement {
    let statement: Statement;
    if (this.acceptWord('COMMENT')) statement = this.commentOn();
    else if (this.acceptWord('ALTER')) statement = this.alter();
    else if (this.isWord('SET', 'UNSET')) statement = this.tagOn();
    else if (this.isWord('SELECT')) return { type: 'select', query: this.select() };
    else if (this.acceptWord('SHOW')) statement = this.show();
    else if (this.isWord('DESCRIBE', 'DESC')) statement = this.describe();
    else return this.fail();
    this.acceptSymbol(';');
    if (this.token.kind !== 'end') this.fail();
    return statement;
  }

  /** SHOW { SCHEMAS | DATABASES } [ { IN | FROM } catalog ]; SHOW TABLES [ { IN | FROM } schema ]. */
  private show(): Statement {
    const what = this.word('SCHEMAS', 'DATABASES', 'TABLES');
    const from = this.isWord('IN', 'FROM') ? (this.next(), this.multipartName()) : undefined;
    if (what === 'TABLES') return { type: 'show-tables', ...(from ? { schema: from } : {}) };
    if (from && from.length !== 1) this.fail();
    return { type: 'show-schemas', ...(from ? { catalog: from[0] as string } : {}) };
  }

  /** DESCRIBE { SCHEMA | DATABASE } [ EXTENDED ] name; DESCRIBE [ TABLE ] [ EXTENDED ] name. */
  private describe(): Statement {
    this.next();
    if (this.isWord('SCHEMA', 'DATABASE')) {
      this.next();
      this.acceptWord('EXTENDED');
      return { type: 'describe-schema', name: this.multipartName() };
    }
    this.acceptWord('TABLE');
    this.acceptWord('EXTENDED');
    return { type: 'describe-table', name: this.multipartName() };
  }

  private commentOn(): Statement {
    this.word('ON');
    const kind = this.word('CATALOG', 'SCHEMA', 'DATABASE', 'TABLE', 'COLUMN');
    const on = kind === 'DATABASE' ? 'SCHEMA' : (kind as 'CATALOG' | 'SCHEMA' | 'TABLE' | 'COLUMN');
    const name = this.multipartName();
    this.word('IS');
    const value = this.acceptWord('NULL') ? null : this.stringLiteral();
    return { type: 'comment', on, name, value };
  }

  private objectKeyword(): ObjectKeyword {
    const first = this.word('CATALOG', 'SCHEMA', 'DATABASE', 'TABLE', 'VIEW', 'MATERIALIZED', 'STREAMING');
    if (first === 'DATABASE') return 'SCHEMA';
    if (first === 'MATERIALIZED') {
      this.word('VIEW');
      return 'MATERIALIZED VIEW';
    }
    if (first === 'STREAMING') {
      this.word('TABLE');
      return 'STREAMING TABLE';
    }
    return first as ObjectKeyword;
  }

  private alter(): Statement {
    const keyword = this.objectKeyword();
    const name = this.multipartName();
    const target: Target = { keyword, name };
    // ALTER VIEW has no ALTER COLUMN clause (a view's columns take COMMENT ON COLUMN / SET TAG ON).
    if (keyword !== 'CATALOG' && keyword !== 'SCHEMA' && keyword !== 'VIEW' && this.isWord('ALTER', 'CHANGE')) {
      this.next();
      this.acceptWord('COLUMN');
      target.column = this.identifier();
      if (this.acceptWord('COMMENT')) return { type: 'column-comment', target, value: this.stringLiteral() };
      return this.tagClause(target);
    }
    const setOwner = this.isWord('SET') && this.tokens[this.index + 1]?.kind === 'word' && (this.tokens[this.index + 1] as { upper: string }).upper === 'OWNER';
    // ALTER MATERIALIZED VIEW / STREAMING TABLE document only the SET OWNER TO form.
    if (setOwner || (this.isWord('OWNER') && keyword !== 'MATERIALIZED VIEW' && keyword !== 'STREAMING TABLE')) {
      this.acceptWord('SET');
      this.word('OWNER');
      this.word('TO');
      return { type: 'owner', target, principal: this.principal() };
    }
    return this.tagClause(target);
  }

  private tagClause(target: Target): Statement {
    const verb = this.word('SET', 'UNSET');
    this.word('TAGS');
    this.symbol('(');
    if (verb === 'UNSET') {
      const keys = [this.stringLiteral()];
      while (this.acceptSymbol(',')) keys.push(this.stringLiteral());
      this.symbol(')');
      return { type: 'unset-tags', target, keys };
    }
    const tags: [string, string][] = [];
    do {
      const key = this.stringLiteral();
      this.symbol('=');
      tags.push([key, this.stringLiteral()]);
    } while (this.acceptSymbol(','));
    this.symbol(')');
    return { type: 'set-tags', target, tags };
  }

  /** SET TAG ON / UNSET TAG ON (DBR 16.1+): one key, identifiers, not idempotent. */
  private tagOn(): Statement {
    const verb = this.word('SET', 'UNSET');
    this.word('TAG');
    this.word('ON');
    const kind = this.word('CATALOG', 'SCHEMA', 'DATABASE', 'TABLE', 'VIEW', 'COLUMN');
    const name = this.multipartName();
    let target: Target;
    if (kind === 'COLUMN') {
      const column = name.pop();
      if (column === undefined || name.length === 0) this.fail();
      target = { keyword: 'COLUMN OF', name, column };
    } else target = { keyword: kind === 'DATABASE' ? 'SCHEMA' : (kind as ObjectKeyword), name };
    const key = this.tagName();
    if (verb === 'UNSET') return { type: 'unset-tag-on', target, key };
    const value = this.acceptSymbol('=') ? this.tagName() : '';
    return { type: 'set-tag-on', target, key, value };
  }

  /**
   * A catalog SELECT, parsed by the emulator kit's SELECT grammar over these tokens: identifiers
   * are case-insensitive (compared in lower case), adjacent string literals joined as Spark does.
   */
  private select(): Query {
    const tokens: KitToken[] = [];
    for (let i = this.index; i < this.tokens.length; i++) {
      const token = this.tokens[i] as Token;
      const previous = tokens[tokens.length - 1];
      if (token.kind === 'string' && previous?.kind === 'string') previous.value += token.text;
      else if (token.kind === 'word' || token.kind === 'quoted') tokens.push({ kind: 'ident', value: token.text.toLowerCase(), quoted: token.kind === 'quoted', pos: token.at });
      else if (token.kind === 'end') tokens.push({ kind: 'end', value: '', pos: token.at });
      else tokens.push({ kind: token.kind, value: token.text, pos: token.at });
    }
    const stream = new TokenStream(tokens, (token) => new EngineError('PARSE_SYNTAX_ERROR', '42601', `Syntax error at or near '${token.kind === 'end' ? 'end of input' : token.value}'.`));
    try {
      const query = parseQuery(stream);
      stream.expectEnd();
      return query;
    } catch (error) {
      throw error instanceof EngineError ? new DatabricksSqlError(error.code, error.message, error.sqlState) : error;
    }
  }
}

export function parseStatement(sql: string): Statement {
  return new Parser(tokenize(sql)).statement();
}
