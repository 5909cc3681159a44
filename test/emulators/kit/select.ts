/**
 * A small SELECT parser and evaluator over in-memory relations: the shape every connector's
 * catalog query has (projection, qualified names, table functions, inner/left joins on any
 * condition, WHERE with = <> < > IN LIKE IS NULL AND OR NOT, ORDER BY, LIMIT, UNION ALL).
 * It works on the tokens of any dialect's lexer; the dialect resolves what a FROM names.
 */
import { EngineError, TokenStream } from './tokens.js';

export type Value = string | number | boolean | null;

export interface Relation {
  columns: readonly string[];
  rows: Value[][];
}

export type Expr =
  | { kind: 'literal'; value: Value }
  | { kind: 'column'; parts: string[] }
  | { kind: 'binary'; op: string; left: Expr; right: Expr }
  | { kind: 'not'; expr: Expr }
  | { kind: 'isNull'; expr: Expr; negated: boolean }
  | { kind: 'in'; expr: Expr; list: Expr[]; negated: boolean }
  | { kind: 'like'; expr: Expr; pattern: Expr; negated: boolean; caseInsensitive: boolean }
  | { kind: 'call'; name: string; args: Expr[] };

export type Source =
  | { kind: 'table'; name: string[]; alias: string }
  | { kind: 'function'; name: string[]; args: Expr[]; alias: string };

export interface SelectItem {
  /** undefined for `*` or `alias.*` */
  expr?: Expr;
  star?: { qualifier?: string };
  alias?: string;
}

export interface Join {
  source: Source;
  type: 'inner' | 'left' | 'cross';
  on?: Expr;
}

export interface Select {
  distinct: boolean;
  items: SelectItem[];
  from: Source;
  joins: Join[];
  where?: Expr;
  orderBy: { expr: Expr; desc: boolean }[];
  limit?: number;
}

/** Several SELECTs joined by UNION ALL. */
export type Query = Select[];

export type SourceResolver = (source: Source, args: Value[]) => Relation;

const COMPARISONS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);

export function parseQuery(stream: TokenStream): Query {
  const selects = [parseSelect(stream)];
  while (stream.acceptKeyword('UNION', 'ALL')) selects.push(parseSelect(stream));
  return selects;
}

function parseSelect(stream: TokenStream): Select {
  stream.expectKeyword('SELECT');
  const distinct = stream.acceptKeyword('DISTINCT');
  const items: SelectItem[] = [];
  do items.push(parseItem(stream));
  while (stream.acceptSymbol(','));
  stream.expectKeyword('FROM');
  const from = parseSource(stream);
  const joins: Join[] = [];
  for (;;) {
    if (stream.acceptSymbol(',')) joins.push({ source: parseSource(stream), type: 'cross' });
    else if (stream.acceptKeyword('LEFT')) {
      stream.acceptKeyword('OUTER');
      stream.expectKeyword('JOIN');
      joins.push(joinWithCondition(stream, 'left'));
    } else if (stream.acceptKeyword('INNER') || stream.isKeyword('JOIN')) {
      stream.expectKeyword('JOIN');
      joins.push(joinWithCondition(stream, 'inner'));
    } else break;
  }
  const select: Select = { distinct, items, from, joins, orderBy: [] };
  if (stream.acceptKeyword('WHERE')) select.where = parseExpr(stream);
  if (stream.acceptKeyword('ORDER', 'BY')) {
    do {
      const expr = parseExpr(stream);
      const desc = stream.acceptKeyword('DESC');
      if (!desc) stream.acceptKeyword('ASC');
      select.orderBy.push({ expr, desc });
    } while (stream.acceptSymbol(','));
  }
  if (stream.acceptKeyword('LIMIT')) {
    const token = stream.next();
    if (token.kind !== 'number') throw stream.fail('a number');
    select.limit = Number(token.value);
  }
  return select;
}

function joinWithCondition(stream: TokenStream, type: 'inner' | 'left'): Join {
  const source = parseSource(stream);
  stream.expectKeyword('ON');
  return { source, type, on: parseExpr(stream) };
}

const RESERVED_AFTER_SOURCE = new Set(['WHERE', 'ORDER', 'LIMIT', 'JOIN', 'LEFT', 'INNER', 'ON', 'UNION', 'GROUP']);

function parseAlias(stream: TokenStream): string | undefined {
  if (stream.acceptKeyword('AS')) return stream.expectIdentifier().value;
  const token = stream.peek();
  if (token.kind === 'ident' && (token.quoted || !RESERVED_AFTER_SOURCE.has(token.value.toUpperCase()) && token.value.toUpperCase() !== 'FROM'))
    return stream.expectIdentifier().value;
  return undefined;
}

function parseSource(stream: TokenStream): Source {
  if (stream.isKeyword('TABLE') && stream.isSymbol('(', 1)) {
    stream.next();
    stream.expectSymbol('(');
    const name = stream.qualifiedName();
    stream.expectSymbol('(');
    const args: Expr[] = [];
    if (!stream.isSymbol(')')) {
      do args.push(parseExpr(stream));
      while (stream.acceptSymbol(','));
    }
    stream.expectSymbol(')');
    stream.expectSymbol(')');
    return { kind: 'function', name, args, alias: parseAlias(stream) ?? name[name.length - 1] ?? '' };
  }
  const name = stream.qualifiedName();
  return { kind: 'table', name, alias: parseAlias(stream) ?? name[name.length - 1] ?? '' };
}

function parseItem(stream: TokenStream): SelectItem {
  if (stream.acceptSymbol('*')) return { star: {} };
  const token = stream.peek();
  if (token.kind === 'ident' && stream.isSymbol('.', 1) && stream.isSymbol('*', 2)) {
    stream.next();
    stream.next();
    stream.next();
    return { star: { qualifier: token.value } };
  }
  const expr = parseExpr(stream);
  const alias = parseAlias(stream);
  return alias === undefined ? { expr } : { expr, alias };
}

export function parseExpr(stream: TokenStream): Expr {
  let left = parseAnd(stream);
  while (stream.acceptKeyword('OR')) left = { kind: 'binary', op: 'OR', left, right: parseAnd(stream) };
  return left;
}

function parseAnd(stream: TokenStream): Expr {
  let left = parseNot(stream);
  while (stream.acceptKeyword('AND')) left = { kind: 'binary', op: 'AND', left, right: parseNot(stream) };
  return left;
}

function parseNot(stream: TokenStream): Expr {
  if (stream.acceptKeyword('NOT')) return { kind: 'not', expr: parseNot(stream) };
  return parsePredicate(stream);
}

function parsePredicate(stream: TokenStream): Expr {
  const left = parseConcat(stream);
  const token = stream.peek();
  if (token.kind === 'symbol' && COMPARISONS.has(token.value)) {
    stream.next();
    return { kind: 'binary', op: token.value === '!=' ? '<>' : token.value, left, right: parseConcat(stream) };
  }
  if (stream.acceptKeyword('IS')) {
    const negated = stream.acceptKeyword('NOT');
    stream.expectKeyword('NULL');
    return { kind: 'isNull', expr: left, negated };
  }
  const negated = stream.acceptKeyword('NOT');
  if (stream.acceptKeyword('IN')) {
    stream.expectSymbol('(');
    const list: Expr[] = [];
    do list.push(parseConcat(stream));
    while (stream.acceptSymbol(','));
    stream.expectSymbol(')');
    return { kind: 'in', expr: left, list, negated };
  }
  const like = stream.acceptKeyword('LIKE') ? 'LIKE' : stream.acceptKeyword('ILIKE') ? 'ILIKE' : undefined;
  if (like) return { kind: 'like', expr: left, pattern: parseConcat(stream), negated, caseInsensitive: like === 'ILIKE' };
  if (negated) throw stream.fail('IN or LIKE');
  return left;
}

function parseConcat(stream: TokenStream): Expr {
  let left = parsePrimary(stream);
  while (stream.acceptSymbol('||')) left = { kind: 'call', name: 'CONCAT', args: [left, parsePrimary(stream)] };
  return left;
}

function parsePrimary(stream: TokenStream): Expr {
  const token = stream.peek();
  if (token.kind === 'string') {
    stream.next();
    return { kind: 'literal', value: token.value };
  }
  if (token.kind === 'number') {
    stream.next();
    return { kind: 'literal', value: Number(token.value) };
  }
  if (stream.acceptSymbol('(')) {
    const inner = parseExpr(stream);
    stream.expectSymbol(')');
    return inner;
  }
  if (stream.acceptKeyword('NULL')) return { kind: 'literal', value: null };
  if (stream.acceptKeyword('TRUE')) return { kind: 'literal', value: true };
  if (stream.acceptKeyword('FALSE')) return { kind: 'literal', value: false };
  if (token.kind === 'ident') {
    const parts = stream.qualifiedName();
    if (stream.acceptSymbol('(')) {
      const args: Expr[] = [];
      if (!stream.isSymbol(')')) {
        do args.push(parseExpr(stream));
        while (stream.acceptSymbol(','));
      }
      stream.expectSymbol(')');
      return { kind: 'call', name: (parts[parts.length - 1] ?? '').toUpperCase(), args };
    }
    return { kind: 'column', parts };
  }
  throw stream.fail('an expression');
}

/** Where each source's columns sit in a joined row. */
interface Scope {
  sources: { alias: string; columns: readonly string[]; offset: number }[];
}

type Compiled = (row: readonly Value[]) => Value;

export interface EvaluateOptions {
  resolve: SourceResolver;
  /** The engine's error for an unknown column. */
  unknownColumn: (name: string) => EngineError;
  /** Extra scalar functions (UPPER, LOWER, COALESCE, CONCAT are built in). */
  functions?: Record<string, (args: Value[]) => Value>;
}

export function evaluateQuery(query: Query, options: EvaluateOptions): Relation {
  let result: Relation | undefined;
  for (const select of query) {
    const part = evaluateSelect(select, options);
    if (!result) result = { columns: part.columns, rows: part.rows };
    else for (const row of part.rows) result.rows.push(row);
  }
  return result ?? { columns: [], rows: [] };
}

function constant(expr: Expr, options: EvaluateOptions): Value {
  return compile(expr, { sources: [] }, options)([]);
}

function evaluateSelect(select: Select, options: EvaluateOptions): Relation {
  const resolveSource = (source: Source) =>
    options.resolve(source, source.kind === 'function' ? source.args.map((arg) => constant(arg, options)) : []);
  const first = resolveSource(select.from);
  const scope: Scope = { sources: [{ alias: select.from.alias, columns: first.columns, offset: 0 }] };
  let rows: Value[][] = first.rows;
  let width = first.columns.length;
  for (const join of select.joins) {
    const right = resolveSource(join.source);
    scope.sources.push({ alias: join.source.alias, columns: right.columns, offset: width });
    const on = join.on ? compile(join.on, scope, options) : undefined;
    rows = joinRows(rows, right.rows, right.columns.length, join.type, on, hashKeys(join.on, scope, width, options));
    width += right.columns.length;
  }
  if (select.where) {
    const where = compile(select.where, scope, options);
    rows = rows.filter((row) => where(row) === true);
  }
  const columns: string[] = [];
  const projections: Compiled[] = [];
  for (const item of select.items) {
    if (item.star) {
      for (const source of scope.sources) {
        if (item.star.qualifier !== undefined && source.alias !== item.star.qualifier) continue;
        source.columns.forEach((column, i) => {
          columns.push(column);
          projections.push((row) => row[source.offset + i] ?? null);
        });
      }
      continue;
    }
    const expr = item.expr as Expr;
    columns.push(item.alias ?? (expr.kind === 'column' ? (expr.parts[expr.parts.length - 1] ?? '') : expr.kind === 'call' ? expr.name : 'EXPR'));
    projections.push(compile(expr, scope, options));
  }
  if (select.orderBy.length > 0) {
    const keys = select.orderBy.map(({ expr, desc }) => {
      // ORDER BY may name an output column by alias or position.
      if (expr.kind === 'literal' && typeof expr.value === 'number') {
        const projection = projections[expr.value - 1];
        if (!projection) throw options.unknownColumn(String(expr.value));
        return { key: projection, desc };
      }
      if (expr.kind === 'column' && expr.parts.length === 1) {
        const index = select.items.findIndex((item) => item.alias === expr.parts[0]);
        if (index >= 0) return { key: projections[index] as Compiled, desc };
      }
      return { key: compile(expr, scope, options), desc };
    });
    const decorated = rows.map((row) => ({ row, keys: keys.map(({ key }) => key(row)) }));
    decorated.sort((a, b) => {
      for (let i = 0; i < keys.length; i++) {
        const order = compareValues(a.keys[i] ?? null, b.keys[i] ?? null);
        if (order !== 0) return keys[i]?.desc ? -order : order;
      }
      return 0;
    });
    rows = decorated.map(({ row }) => row);
  }
  let output = rows.map((row) => projections.map((projection) => projection(row)));
  if (select.distinct) {
    const seen = new Set<string>();
    output = output.filter((row) => {
      const key = JSON.stringify(row);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
  if (select.limit !== undefined) output = output.slice(0, select.limit);
  return { columns, rows: output };
}

/** For `a.x = b.y [AND ...]` joins: the left and right key of each equality, to join by hash. */
function hashKeys(on: Expr | undefined, scope: Scope, rightOffset: number, options: EvaluateOptions): { left: Compiled[]; right: Compiled[] } | undefined {
  if (!on) return undefined;
  const equalities: [Expr, Expr][] = [];
  const collect = (expr: Expr): boolean => {
    if (expr.kind === 'binary' && expr.op === 'AND') return collect(expr.left) && collect(expr.right);
    if (expr.kind === 'binary' && expr.op === '=' && expr.left.kind === 'column' && expr.right.kind === 'column') {
      equalities.push([expr.left, expr.right]);
      return true;
    }
    return false;
  };
  if (!collect(on)) return undefined;
  const isRight = (expr: Expr) => columnIndex((expr as { parts: string[] }).parts, scope, options) >= rightOffset;
  const left: Compiled[] = [];
  const right: Compiled[] = [];
  for (const [a, b] of equalities) {
    if (isRight(a) === isRight(b)) return undefined;
    const [l, r] = isRight(a) ? [b, a] : [a, b];
    left.push(compile(l, scope, options));
    const rightKey = compile(r, scope, options);
    // Right keys are evaluated on the right row alone, placed at its offset.
    right.push((row) => rightKey(new Array<Value>(rightOffset).fill(null).concat(row)));
  }
  return { left, right };
}

function joinRows(
  left: Value[][],
  right: Value[][],
  rightWidth: number,
  type: Join['type'],
  on: Compiled | undefined,
  hash: { left: Compiled[]; right: Compiled[] } | undefined,
): Value[][] {
  const output: Value[][] = [];
  const nulls = new Array<Value>(rightWidth).fill(null);
  if (hash) {
    const index = new Map<string, Value[][]>();
    for (const row of right) {
      const key = JSON.stringify(hash.right.map((key) => key(row)));
      const list = index.get(key);
      if (list) list.push(row);
      else index.set(key, [row]);
    }
    for (const row of left) {
      const keys = hash.left.map((key) => key(row));
      const matches = keys.includes(null) ? undefined : index.get(JSON.stringify(keys));
      if (matches) for (const match of matches) output.push(row.concat(match));
      else if (type === 'left') output.push(row.concat(nulls));
    }
    return output;
  }
  for (const row of left) {
    let matched = false;
    for (const candidate of right) {
      const joined = row.concat(candidate);
      if (!on || on(joined) === true) {
        output.push(joined);
        matched = true;
      }
    }
    if (!matched && type === 'left') output.push(row.concat(nulls));
  }
  return output;
}

function columnIndex(parts: readonly string[], scope: Scope, options: EvaluateOptions): number {
  const name = parts[parts.length - 1] ?? '';
  const qualifier = parts.length > 1 ? parts[parts.length - 2] : undefined;
  let found = -1;
  for (const source of scope.sources) {
    if (qualifier !== undefined && source.alias !== qualifier) continue;
    const i = source.columns.indexOf(name);
    if (i >= 0) {
      if (found >= 0) throw options.unknownColumn(`ambiguous column name '${name}'`);
      found = source.offset + i;
    }
  }
  if (found < 0) throw options.unknownColumn(parts.join('.'));
  return found;
}

function likeRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === '\\' && i + 1 < pattern.length) source += (pattern[++i] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (char === '%') source += '[\\s\\S]*';
    else if (char === '_') source += '[\\s\\S]';
    else source += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, caseInsensitive ? 'iu' : 'u');
}

export function compareValues(a: Value, b: Value): number {
  if (a === b) return 0;
  if (a === null) return 1; // NULLS LAST, Snowflake's default for ascending order
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function compile(expr: Expr, scope: Scope, options: EvaluateOptions): Compiled {
  switch (expr.kind) {
    case 'literal': {
      const value = expr.value;
      return () => value;
    }
    case 'column': {
      const index = columnIndex(expr.parts, scope, options);
      return (row) => row[index] ?? null;
    }
    case 'not': {
      const inner = compile(expr.expr, scope, options);
      return (row) => {
        const value = inner(row);
        return value === null ? null : !value;
      };
    }
    case 'isNull': {
      const inner = compile(expr.expr, scope, options);
      return (row) => (inner(row) === null) !== expr.negated;
    }
    case 'in': {
      const inner = compile(expr.expr, scope, options);
      if (expr.list.every((item) => item.kind === 'literal')) {
        const set = new Set(expr.list.map((item) => (item as { value: Value }).value));
        return (row) => {
          const value = inner(row);
          return value === null ? null : set.has(value) !== expr.negated;
        };
      }
      const list = expr.list.map((item) => compile(item, scope, options));
      return (row) => {
        const value = inner(row);
        return value === null ? null : list.some((item) => item(row) === value) !== expr.negated;
      };
    }
    case 'like': {
      const inner = compile(expr.expr, scope, options);
      const pattern = compile(expr.pattern, scope, options);
      const cache = new Map<string, RegExp>();
      return (row) => {
        const value = inner(row);
        const text = pattern(row);
        if (value === null || text === null) return null;
        let regexp = cache.get(String(text));
        if (!regexp) cache.set(String(text), (regexp = likeRegExp(String(text), expr.caseInsensitive)));
        return regexp.test(String(value)) !== expr.negated;
      };
    }
    case 'call': {
      const args = expr.args.map((arg) => compile(arg, scope, options));
      const fn = options.functions?.[expr.name] ?? BUILTINS[expr.name];
      if (!fn) throw options.unknownColumn(`unknown function ${expr.name}`);
      return (row) => fn(args.map((arg) => arg(row)));
    }
    case 'binary': {
      const left = compile(expr.left, scope, options);
      const right = compile(expr.right, scope, options);
      switch (expr.op) {
        case 'AND':
          return (row) => {
            const a = left(row);
            if (a === false) return false;
            const b = right(row);
            if (b === false) return false;
            return a === null || b === null ? null : true;
          };
        case 'OR':
          return (row) => {
            const a = left(row);
            if (a === true) return true;
            const b = right(row);
            if (b === true) return true;
            return a === null || b === null ? null : false;
          };
        default:
          return (row) => {
            const a = left(row);
            const b = right(row);
            if (a === null || b === null) return null;
            const order = compareValues(a, b);
            switch (expr.op) {
              case '=':
                return order === 0;
              case '<>':
                return order !== 0;
              case '<':
                return order < 0;
              case '>':
                return order > 0;
              case '<=':
                return order <= 0;
              default:
                return order >= 0;
            }
          };
      }
    }
  }
}

const BUILTINS: Record<string, (args: Value[]) => Value> = {
  UPPER: ([value]) => (value === null || value === undefined ? null : String(value).toUpperCase()),
  LOWER: ([value]) => (value === null || value === undefined ? null : String(value).toLowerCase()),
  COALESCE: (args) => args.find((value) => value !== null) ?? null,
  CONCAT: (args) => (args.includes(null) ? null : args.map(String).join('')),
};
