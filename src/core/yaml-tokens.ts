import { CST, Document, Pair, Parser, Scalar, YAMLMap, YAMLSeq, type LineCounter } from 'yaml';

/**
 * The fast way to load a large, ordinary metadata file: the YAML parser's tokens made into the
 * library's own nodes (maps, sequences, scalars, with their source ranges), without its composer,
 * whose garbage makes a 14 MB file of quoted descriptions peak at twice the memory.
 *
 * It takes only what is plainly text: block maps and sequences of plain, quoted and block
 * scalars, with unique text keys. Anything else (flow collections, anchors, aliases, tags,
 * directives, several documents, a plain scalar YAML reads as a number, boolean or null key, a
 * duplicate key, a lone surrogate, a parse error) returns undefined, and the caller composes the
 * document the usual way, which reports every such case precisely.
 */
export function documentFromTokens(text: string, lines: LineCounter): Document.Parsed | undefined {
  // A tab can be indentation, which YAML forbids and the parser's tokens do not flag; such files,
  // and those with tabs anywhere, are the composer's to judge.
  if (text.includes('\t')) return undefined;
  const layout = new Layout(lines);
  let root: unknown;
  let documents = 0;
  for (const token of new Parser(lines.addNewLine).parse(text)) {
    if (token.type === 'comment' || token.type === 'space' || token.type === 'newline' || token.type === 'doc-end') continue;
    if (token.type !== 'document' || ++documents > 1) return undefined;
    if (!onlyLayout(token.start, ['doc-start'])) return undefined;
    root = token.value === undefined ? null : node(token.value, layout);
    if (root === undefined) return undefined;
  }
  const document = new Document() as Document.Parsed;
  // The nodes carry the ranges a parsed document's do, which is all its readers use.
  document.contents = root === null || root === undefined ? null : (root as unknown as Document.Parsed['contents']);
  return document;
}

/** Layout only: spaces, newlines, comments, and the indicators named. */
function onlyLayout(tokens: readonly CST.SourceToken[] | undefined, indicators: readonly string[]): boolean {
  for (const token of tokens ?? [])
    if (token.type !== 'space' && token.type !== 'newline' && token.type !== 'comment' && !indicators.includes(token.type)) return false;
  return true;
}

/** Line and column of offsets, from the line starts the parser has recorded. */
class Layout {
  constructor(private readonly lines: LineCounter) {}
  at(offset: number): { line: number; col: number } {
    return this.lines.linePos(offset);
  }
}

function node(token: CST.Token, layout: Layout): YAMLMap | YAMLSeq | Scalar | undefined {
  switch (token.type) {
    case 'block-map':
      return map(token, layout);
    case 'block-seq':
      return seq(token, layout);
    case 'scalar':
    case 'single-quoted-scalar':
    case 'double-quoted-scalar':
    case 'block-scalar':
      return scalar(token, false);
    default:
      return undefined;
  }
}

/**
 * The composer refuses a map whose keys are not in one column, one per line, and a collection that
 * starts on its key's line (`a: b: c`); the parser's tokens hold such files as if they were
 * valid, so they are left to the composer.
 */
function map(token: CST.BlockMap, layout: Layout): YAMLMap | undefined {
  const result = new YAMLMap();
  result.range = [token.offset, token.offset, token.offset];
  const keys = new Set<string>();
  let column = -1;
  let line = 0;
  for (const item of token.items) {
    if (!onlyLayout(item.start, []) || !onlyLayout(item.sep, ['map-value-ind']) || !item.key || !item.sep) return undefined;
    const place = layout.at(item.key.offset);
    if (column < 0) column = place.col;
    else if (place.col !== column || place.line <= line) return undefined;
    line = place.line;
    const key = scalarToken(item.key) ? scalar(item.key, true) : undefined;
    if (!key || typeof key.value !== 'string' || keys.has(key.value)) return undefined;
    keys.add(key.value);
    let value: YAMLMap | YAMLSeq | Scalar;
    if (item.value) {
      if (item.value.type === 'block-map' || item.value.type === 'block-seq') {
        const start = layout.at(item.value.offset);
        if (start.line <= place.line || start.col < column || (item.value.type === 'block-map' && start.col === column)) return undefined;
      }
      const built = node(item.value, layout);
      if (!built) return undefined;
      value = built;
    } else value = emptyValue(item.sep);
    result.items.push(new Pair(key, value));
  }
  return result;
}

/**
 * The null of `key:` with nothing after it, placed where the composer places it: after the
 * indicator and the spaces that follow it, before any comment or line break.
 */
function emptyValue(sep: readonly CST.SourceToken[]): Scalar {
  const last = sep[sep.length - 1];
  let offset = last ? last.offset + last.source.length : 0;
  let i = sep.length - 1;
  for (; i >= 0; i--) {
    const token = sep[i] as CST.SourceToken;
    if (token.type !== 'space' && token.type !== 'comment' && token.type !== 'newline') break;
    offset -= token.source.length;
  }
  for (let next = sep[++i]; next?.type === 'space'; next = sep[++i]) offset += next.source.length;
  const empty = new Scalar(null);
  empty.range = [offset, offset, offset];
  empty.source = '';
  return empty;
}

/** A list of scalars, one `-` per line, all in one column. */
function seq(token: CST.BlockSequence, layout: Layout): YAMLSeq | undefined {
  const result = new YAMLSeq();
  result.range = [token.offset, token.offset, token.offset];
  let column = -1;
  let line = 0;
  for (const item of token.items) {
    if (!onlyLayout(item.start, ['seq-item-ind']) || !item.value || !scalarToken(item.value)) return undefined;
    const indicator = item.start.find((part) => part.type === 'seq-item-ind');
    if (!indicator) return undefined;
    const place = layout.at(indicator.offset);
    if (column < 0) column = place.col;
    else if (place.col !== column || place.line <= line) return undefined;
    line = place.line;
    const built = node(item.value, layout);
    if (!built) return undefined;
    result.items.push(built);
  }
  return result;
}

function scalarToken(token: CST.Token): token is CST.FlowScalar | CST.BlockScalar {
  return token.type === 'scalar' || token.type === 'single-quoted-scalar' || token.type === 'double-quoted-scalar' || token.type === 'block-scalar';
}

/** YAML 1.2 core schema: plain scalars that are not text. */
const NOT_TEXT = /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const NULL = /^(?:~|null|Null|NULL)?$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function scalar(token: CST.Token, isKey: boolean): Scalar | undefined {
  if (!scalarToken(token)) return undefined;
  // A plain or quoted scalar over several lines is folded by rules that depend on its indentation.
  if (token.type !== 'block-scalar' && token.source.includes('\n')) return undefined;
  if ('end' in token && token.end && !onlyLayout(token.end, [])) return undefined;
  // A block scalar's header (`|`, `>-`) comes in its props; an anchor or a tag would too.
  if (token.type === 'block-scalar' && !onlyLayout(token.props as CST.SourceToken[], ['block-scalar-header'])) return undefined;
  const resolved = CST.resolveAsScalar(token, true, () => {
    throw new NotPlain();
  });
  if (!resolved) return undefined;
  let value: string | null = resolved.value;
  if (resolved.type === 'PLAIN') {
    if (NULL.test(value) && !isKey) value = null;
    else if (NOT_TEXT.test(value)) return undefined;
  }
  if (value !== null && LONE_SURROGATE.test(value)) return undefined;
  const result = new Scalar(value);
  if (resolved.type) result.type = resolved.type;
  result.range = resolved.range;
  if (resolved.type === 'PLAIN') result.source = resolved.value;
  return result;
}

class NotPlain extends Error {}

/** documentFromTokens, with a parse problem inside a scalar taken as "not for the fast way". */
export function tryDocumentFromTokens(text: string, lines: LineCounter): Document.Parsed | undefined {
  try {
    return documentFromTokens(text, lines);
  } catch (error) {
    if (error instanceof NotPlain) return undefined;
    throw error;
  }
}
