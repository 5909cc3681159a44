/**
 * The statements the emulator accepts, by Databricks' documented grammar (COMMENT ON, ALTER
 * CATALOG/SCHEMA/TABLE/VIEW ... OWNER TO / SET TAGS / UNSET TAGS / ALTER COLUMN, SET TAG ON /
 * UNSET TAG ON) and Spark's rules for where literals go: a COMMENT or a tag takes exactly one
 * string literal (so `'It''s'`, two adjacent literals, is a syntax error there), while a constant
 * in an expression joins adjacent literals (`'It''s'` = `Its`, as Spark silently does).
 */
import { syntaxError, tokenize, type Token } from './lexer.js';

/** The keyword an ALTER names its object with; it must match the object's kind. */
export type RelationKeyword = 'TABLE' | 'VIEW' | 'MATERIALIZED VIEW' | 'STREAMING TABLE';
export type ObjectKeyword = 'CATALOG' | 'SCHEMA' | RelationKeyword;

export interface Target {
  keyword: ObjectKeyword;
  name: string[];
  column?: string;
}

export type Condition =
  | { op: 'and' | 'or'; left: Condition; right: Condition }
  | { op: 'not'; operand: Condition }
  | { op: 'compare'; column: string; comparator: '=' | '<>'; value: string | number }
  | { op: 'in'; column: string; values: (string | number)[]; negated: boolean }
  | { op: 'null'; column: string; negated: boolean };

export interface Select {
  columns: string[] | '*';
  /** e.g. ['system', 'information_schema', 'tables'] */
  from: string[];
  where?: Condition;
  orderBy: { column: string; descending: boolean }[];
  limit?: number;
}

export type Statement =
  | { type: 'comment'; on: 'CATALOG' | 'SCHEMA' | 'TABLE' | 'COLUMN'; name: string[]; value: string | null }
  | { type: 'column-comment'; target: Target; value: string }
  | { type: 'owner'; target: Target; principal: string }
  | { type: 'set-tags'; target: Target; tags: [string, string][] }
  | { type: 'unset-tags'; target: Target; keys: string[] }
  | { type: 'set-tag-on'; target: Target; key: string; value: string }
  | { type: 'unset-tag-on'; target: Target; key: string }
  | { type: 'select'; select: Select }
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
    else if (this.acceptWord('SELECT')) statement = { type: 'select', select: this.select() };
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
    if (keyword !== 'CATALOG' && keyword !== 'SCHEMA' && this.isWord('ALTER', 'CHANGE')) {
      this.next();
      this.acceptWord('COLUMN');
      target.column = this.identifier();
      if (this.acceptWord('COMMENT')) {
        if (keyword !== 'TABLE' && keyword !== 'STREAMING TABLE') this.fail();
        return { type: 'column-comment', target, value: this.stringLiteral() };
      }
      return this.tagClause(target);
    }
    if (this.isWord('OWNER') || (this.isWord('SET') && this.tokens[this.index + 1]?.kind === 'word' && (this.tokens[this.index + 1] as { upper: string }).upper === 'OWNER')) {
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
      target = { keyword: 'TABLE', name, column };
    } else target = { keyword: kind === 'DATABASE' ? 'SCHEMA' : (kind as ObjectKeyword), name };
    const key = this.tagName();
    if (verb === 'UNSET') return { type: 'unset-tag-on', target, key };
    const value = this.acceptSymbol('=') ? this.tagName() : '';
    return { type: 'set-tag-on', target, key, value };
  }

  private select(): Select {
    let columns: string[] | '*';
    if (this.acceptSymbol('*')) columns = '*';
    else {
      columns = [this.identifier()];
      while (this.acceptSymbol(',')) columns.push(this.identifier());
    }
    this.word('FROM');
    const from = this.multipartName();
    const select: Select = { columns, from, orderBy: [] };
    if (this.acceptWord('WHERE')) select.where = this.or();
    if (this.acceptWord('ORDER')) {
      this.word('BY');
      do {
        const column = this.identifier();
        const descending = this.acceptWord('DESC');
        if (!descending) this.acceptWord('ASC');
        select.orderBy.push({ column, descending });
      } while (this.acceptSymbol(','));
    }
    if (this.acceptWord('LIMIT')) {
      const limit = this.constant();
      if (typeof limit !== 'number') this.fail();
      select.limit = limit;
    }
    return select;
  }

  private or(): Condition {
    let left = this.and();
    while (this.acceptWord('OR')) left = { op: 'or', left, right: this.and() };
    return left;
  }

  private and(): Condition {
    let left = this.predicate();
    while (this.acceptWord('AND')) left = { op: 'and', left, right: this.predicate() };
    return left;
  }

  private predicate(): Condition {
    if (this.acceptWord('NOT')) return { op: 'not', operand: this.predicate() };
    if (this.acceptSymbol('(')) {
      const inner = this.or();
      this.symbol(')');
      return inner;
    }
    const column = this.identifier();
    if (this.acceptWord('IS')) {
      const negated = this.acceptWord('NOT');
      this.word('NULL');
      return { op: 'null', column, negated };
    }
    const negated = this.acceptWord('NOT');
    if (this.acceptWord('IN')) {
      this.symbol('(');
      const values = [this.constant()];
      while (this.acceptSymbol(',')) values.push(this.constant());
      this.symbol(')');
      return { op: 'in', column, values, negated };
    }
    if (negated) this.fail();
    if (this.acceptSymbol('=')) return { op: 'compare', column, comparator: '=', value: this.constant() };
    if (this.acceptSymbol('<>') || this.acceptSymbol('!=')) return { op: 'compare', column, comparator: '<>', value: this.constant() };
    return this.fail();
  }
}

export function parseStatement(sql: string): Statement {
  return new Parser(tokenize(sql)).statement();
}
