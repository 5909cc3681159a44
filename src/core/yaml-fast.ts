import { Document, Pair, Scalar, YAMLMap, YAMLSeq, type LineCounter } from 'yaml';

/**
 * The fast way to load a large, ordinary metadata file: one pass over its lines, building the
 * `yaml` library's own nodes (with the ranges its composer gives them) and the plain data beside
 * them, at the cost of a fast parser rather than the composer's (a tenth of the time, and far less
 * garbage).
 *
 * It takes only a strict subset of YAML, where every line says plainly what it is: block maps of
 * one `key: value` per line, every key of a map in one column; lists of `- value` lines; values
 * that are plain text on one line, single-quoted, or double-quoted with JSON's escapes. Anything
 * else returns undefined and the caller composes the file with the `yaml` library, which decides
 * whether it is valid and reports every problem precisely: tabs anywhere, a key out of its
 * siblings' column, a line more indented than its place allows, flow collections, block scalars,
 * multi-line scalars, anchors, aliases, tags, directives, several documents, a plain key YAML reads
 * as a number, boolean or null, a duplicate key, a lone surrogate. So no file the composer rejects
 * is ever built here (test/yaml-differential.test.ts checks it on thousands of damaged files).
 */
export interface FastDocument {
  document: Document.Parsed;
  /** What `document.toJS()` gives, built in the same pass. */
  data: unknown;
}

export function fastDocument(text: string, lines: LineCounter): FastDocument | undefined {
  // Tabs (indentation YAML forbids, or separation), carriage returns, a byte order mark, control
  // characters and lone surrogates are the composer's to judge.
  if (UNUSUAL_CHARACTER.test(text) || LONE_SURROGATE.test(text)) return undefined;
  const builder = new Builder(text);
  if (!builder.build()) return undefined;
  // The line starts the composer's lexer records: 0, and the offset after every line feed.
  lines.addNewLine(0);
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines.addNewLine(i + 1);
  const document = new Document() as Document.Parsed;
  document.contents = builder.root as Document.Parsed['contents'];
  return { document, data: builder.data };
}

interface MapFrame {
  kind: 'map';
  indent: number;
  node: YAMLMap;
  data: Record<string, unknown>;
}
interface SeqFrame {
  kind: 'seq';
  indent: number;
  node: YAMLSeq;
  data: unknown[];
}
type Frame = MapFrame | SeqFrame;

/** A key whose value starts on a later line (or is empty). */
interface Pending {
  frame: MapFrame;
  key: Scalar;
  name: string;
  /** Where the composer places an empty value: after `:` and the spaces that follow it. */
  emptyAt: number;
}

/** YAML 1.2 core schema: plain scalars that are not text. */
const NOT_TEXT = /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const NULL = /^(?:~|null|Null|NULL)$/;
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Characters that give a plain scalar another meaning when they start it. */
const INDICATOR = /^[-?:,[\]{}#&*!|>'"%@`]/;
/** Double-quoted text whose escapes are JSON's, which then reads it with the same meaning. */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const JSON_COMPATIBLE = /^(?:[^"\\\u0000-\u001f\u007f-\u009f\u2028\u2029]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*$/;
const MAX_KEY = 1000;
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const UNUSUAL_CHARACTER = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\uFEFF\u2028\u2029]/;

class Builder {
  root: YAMLMap | null = null;
  data: unknown = null;
  private readonly stack: Frame[] = [];
  private pending: Pending | undefined;
  /** Where the next line starts, when a block scalar took the lines after its key. */
  private resume: number | undefined;

  constructor(private readonly text: string) {}

  build(): boolean {
    const text = this.text;
    let started = false;
    for (let start = 0; start < text.length; ) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      let indent = start;
      while (text.charCodeAt(indent) === 32) indent++;
      if (indent < end && text[indent] !== '#') {
        const column = indent - start;
        if (column === 0 && /^(?:---|\.\.\.|%)/.test(text.slice(indent, indent + 3))) {
          // One document, with at most a `---` before it.
          if (started || text.slice(indent, end) !== '---') return false;
        } else {
          started = true;
          if (!this.line(column, indent, end)) return false;
        }
      }
      start = this.resume ?? end + 1;
      this.resume = undefined;
    }
    if (this.pending) this.settleEmpty();
    return true;
  }

  private line(column: number, at: number, end: number): boolean {
    const text = this.text;
    const isItem = text[at] === '-' && (at + 1 === end || text[at + 1] === ' ');
    const pending = this.pending;
    if (pending) {
      this.pending = undefined;
      const parent = pending.frame.indent;
      // A nested map goes further right than its key; a list may stand in the key's column.
      if (isItem ? column >= parent : column > parent) {
        const frame: Frame = isItem
          ? { kind: 'seq', indent: column, node: new YAMLSeq(), data: [] }
          : { kind: 'map', indent: column, node: new YAMLMap(), data: {} };
        frame.node.range = [at, at, at];
        pending.frame.node.items.push(new Pair(pending.key, frame.node));
        pending.frame.data[pending.name] = frame.data;
        this.stack.push(frame);
      } else {
        this.pending = pending;
        this.settleEmpty();
      }
    } else if (this.stack.length === 0) {
      if (column !== 0 || isItem) return false;
      const frame: MapFrame = { kind: 'map', indent: 0, node: new YAMLMap(), data: {} };
      frame.node.range = [at, at, at];
      this.root = frame.node;
      this.data = frame.data;
      this.stack.push(frame);
    }
    // Back out to the collection this line's column names; it must be exactly one of them.
    let top = this.stack[this.stack.length - 1];
    while (top && (top.indent > column || (!isItem && top.kind === 'seq' && top.indent === column))) {
      this.stack.pop();
      top = this.stack[this.stack.length - 1];
    }
    if (!top || top.indent !== column || (top.kind === 'seq') !== isItem) return false;
    return top.kind === 'seq' ? this.item(top, at, end) : this.entry(top, at, end);
  }

  /** `- value`: a scalar on the dash's line. */
  private item(frame: SeqFrame, at: number, end: number): boolean {
    let from = at + 1;
    while (this.text.charCodeAt(from) === 32) from++;
    if (from >= end || this.text[from] === '#') return false;
    const value = this.scalar(from, end);
    if (!value) return false;
    frame.node.items.push(value);
    frame.data.push(value.value);
    return true;
  }

  /** `key: value`, or `key:` with the value on the lines below. */
  private entry(frame: MapFrame, at: number, end: number): boolean {
    const text = this.text;
    let key: Scalar | undefined;
    let after: number;
    const first = text[at];
    if (first === '"' || first === "'") {
      const quoted = this.quoted(at, end);
      if (!quoted) return false;
      key = quoted.node;
      after = quoted.next;
      if (text[after] !== ':') return false;
    } else {
      if (INDICATOR.test(first ?? '')) return false;
      let colon = indexWithin(text, ':', at, end);
      while (colon >= 0 && colon + 1 < end && text[colon + 1] !== ' ') colon = indexWithin(text, ':', colon + 1, end);
      if (colon < 0) return false;
      const name = text.slice(at, colon);
      if (name.endsWith(' ') || name.includes(' #') || /[[\]{},]/.test(name) || NOT_TEXT.test(name)) return false;
      key = this.plain(name, at);
      after = colon;
    }
    const name = key.value as string;
    if (name.length > MAX_KEY || name === '__proto__' || Object.prototype.hasOwnProperty.call(frame.data, name)) return false;
    let from = after + 1;
    while (text.charCodeAt(from) === 32) from++;
    if (from >= end || (text[from] === '#' && from > after + 1)) {
      this.pending = { frame, key, name, emptyAt: from };
      return true;
    }
    if (from === after + 1) return false; // `key:value` is no key
    const header = text.slice(from, end);
    const value = header === '|' || header === '|-' ? this.literal(frame.indent, from, end) : this.scalar(from, end);
    if (!value) return false;
    frame.node.items.push(new Pair(key, value));
    frame.data[name] = value.value;
    return true;
  }

  /**
   * A literal block scalar (`|`, `|-`) as a map value: the lines below, more indented than the map,
   * in the column of the first; empty lines kept, the final line break kept once (`|`) or dropped
   * (`|-`). A line of spaces deeper than that column, or a first line not deeper than the map, is
   * left to the composer.
   */
  private literal(parent: number, header: number, headerEnd: number): Scalar | undefined {
    const text = this.text;
    const strip = text[header + 1] === '-';
    const parts: string[] = [];
    let column = -1;
    let start = headerEnd + 1;
    let contentEnd = start;
    let kept = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      let indent = start;
      while (text.charCodeAt(indent) === 32) indent++;
      const spaces = indent - start;
      if (indent === end) {
        if (column >= 0 ? spaces > column : spaces > parent) return undefined;
        parts.push('');
      } else {
        if (column < 0) {
          if (spaces <= parent) return undefined;
          column = spaces;
        } else if (spaces < column) break;
        parts.push(text.slice(start + column, end));
        kept = parts.length;
        contentEnd = Math.min(end + 1, text.length);
      }
      start = end + 1;
    }
    if (column < 0) return undefined;
    this.resume = Math.min(start, text.length);
    const lines = parts.slice(0, kept);
    const node = new Scalar(lines.join('\n') + (strip ? '' : '\n'));
    node.type = 'BLOCK_LITERAL';
    node.range = [header, contentEnd, contentEnd];
    return node;
  }

  /** `key:` with nothing below it: null, placed where the composer places it. */
  private settleEmpty(): void {
    const pending = this.pending as Pending;
    this.pending = undefined;
    const empty = new Scalar(null);
    empty.range = [pending.emptyAt, pending.emptyAt, pending.emptyAt];
    empty.source = '';
    pending.frame.node.items.push(new Pair(pending.key, empty));
    pending.frame.data[pending.name] = null;
  }

  /** A value from `from` to the end of the line: quoted, or plain text; then only a comment. */
  private scalar(from: number, end: number): Scalar | undefined {
    const text = this.text;
    const first = text[from];
    if (first === '"' || first === "'") {
      const quoted = this.quoted(from, end);
      if (!quoted) return undefined;
      let rest = quoted.next;
      while (text.charCodeAt(rest) === 32) rest++;
      if (rest < end && (text[rest] !== '#' || rest === quoted.next)) return undefined;
      return quoted.node;
    }
    if (INDICATOR.test(first ?? '')) return undefined;
    // Searches stay within the line: an unbounded indexOf would scan the rest of the file for
    // every value that has no comment, quadratic in the file's size.
    let stop = indexWithin(text, ' #', from, end);
    if (stop < 0) stop = end;
    let last = stop;
    while (text.charCodeAt(last - 1) === 32) last--;
    const source = text.slice(from, last);
    // `a: b: c` and `a: b:` are maps YAML refuses on one line.
    if (source.includes(': ') || source.endsWith(':')) return undefined;
    if (NULL.test(source)) {
      const node = this.plain(source, from);
      node.value = null;
      return node;
    }
    if (NOT_TEXT.test(source)) return undefined;
    return this.plain(source, from);
  }

  private plain(source: string, from: number): Scalar {
    const node = new Scalar(source);
    node.type = 'PLAIN';
    node.source = source;
    node.range = [from, from + source.length, from + source.length];
    return node;
  }

  /** A single- or double-quoted scalar closed on its line. */
  private quoted(from: number, end: number): { node: Scalar; next: number } | undefined {
    const text = this.text;
    let value: string;
    let close: number;
    if (text[from] === "'") {
      close = from;
      for (;;) {
        close = indexWithin(text, "'", close + 1, end);
        if (close < 0) return undefined;
        if (text[close + 1] !== "'") break;
        close++;
      }
      value = text.slice(from + 1, close).replaceAll("''", "'");
    } else {
      close = from;
      do {
        close = indexWithin(text, '"', close + 1, end);
        if (close < 0) return undefined;
      } while (escaped(text, close));
      const inner = text.slice(from + 1, close);
      if (!JSON_COMPATIBLE.test(inner)) return undefined;
      value = inner.includes('\\') ? (JSON.parse(`"${inner}"`) as string) : inner;
      if (LONE_SURROGATE.test(value)) return undefined;
    }
    const node = new Scalar(value);
    node.type = text[from] === "'" ? 'QUOTE_SINGLE' : 'QUOTE_DOUBLE';
    node.range = [from, close + 1, close + 1];
    return { node, next: close + 1 };
  }
}

/** The first `needle` that starts at or after `from` and ends by `end`, or -1. */
function indexWithin(text: string, needle: string, from: number, end: number): number {
  const found = text.slice(from, end).indexOf(needle);
  return found < 0 ? -1 : from + found;
}

/** Whether the quote at `at` is escaped: an odd number of backslashes before it. */
function escaped(text: string, at: number): boolean {
  let count = 0;
  for (let i = at - 1; text[i] === '\\'; i--) count++;
  return count % 2 === 1;
}
