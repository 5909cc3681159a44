import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Scalar, type YAMLError } from 'yaml';
import type { ErrorObject } from 'ajv';
import { MetaformError, MetaformErrors } from './errors.js';
import { fastDocument, LONE_SURROGATE } from './yaml-fast.js';
import type { SourceLocation } from './model.js';

/** A parsed YAML file that can say where any value in it was written. */
export class YamlFile {
  private constructor(
    readonly path: string,
    readonly displayPath: string,
    readonly document: Document.Parsed,
    private readonly lines: LineCounter,
    private readonly text: string,
    /** The plain data, when the fast way built it beside the nodes. */
    private readonly data?: unknown,
  ) {}

  static async read(path: string, root: string): Promise<YamlFile> {
    const display = displayPath(path, root);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw readFailure(error, display);
    }
    return YamlFile.parse(decodeUtf8(bytes, display), path, root);
  }

  static parse(text: string, path: string, root: string): YamlFile {
    // An ordinary file (block maps of text, one entry a line) is built in one pass over its lines;
    // anything else, and every file with a problem to report, is composed by the yaml library.
    const fastLines = new LineCounter();
    const fast = fastDocument(text, fastLines);
    if (fast) return new YamlFile(path, displayPath(path, root), fast.document, fastLines, text, fast.data);
    const lines = new LineCounter();
    // Duplicate keys are found by buildIndex in one pass; yaml's uniqueKeys compares every pair.
    const document = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false });
    const file = new YamlFile(path, displayPath(path, root), document, lines, text);
    if (document.errors.length > 0) {
      throw new MetaformErrors(document.errors.map((error) => file.syntaxError(error)));
    }
    file.check();
    if (file.problems.length > 0) throw new MetaformErrors(file.problems);
    return file;
  }

  /** A parse error, in words that say what to fix; indentation errors name the column wanted. */
  private syntaxError(error: YAMLError): MetaformError {
    const message = error.message.split('\n')[0] ?? '';
    if (error.code === 'TAB_AS_INDENT')
      return new MetaformError('invalid YAML: tabs are not allowed as indentation', this.locationOfOffset(error.pos[0]), 'indent with spaces only');
    if (error.code === 'BAD_INDENT' && /^All (mapping|sequence) items must start at the same column/.test(message)) {
      // The composer points at the end of the item before; the misplaced key or dash starts after it.
      const start = this.text.slice(error.pos[0]).search(/[^\s]/);
      const at = start < 0 ? error.pos[0] : error.pos[0] + start;
      const what = message.includes('mapping') ? 'key' : 'list item';
      const sibling = this.firstSibling(at);
      const hint = 'line up the keys of one map (and the dashes of one list) in one column, with spaces; what belongs to a key goes further right';
      if (sibling) {
        const mine = this.locationOfOffset(at);
        const theirs = this.locationOfOffset(sibling.range?.[0] ?? 0);
        const side = mine.col < theirs.col ? 'less' : 'more';
        const name = isScalar(sibling) && typeof sibling.value === 'string' && what === 'key' ? `"${sibling.value}" ` : '';
        return new MetaformError(
          `invalid YAML: this ${what} is indented ${side} than its siblings (column ${mine.col}; ${name}at line ${theirs.line} is at column ${theirs.col})`,
          mine,
          hint,
        );
      }
      return new MetaformError(`invalid YAML: this ${what} does not line up with its siblings (${message})`, this.locationOfOffset(at), hint);
    }
    return new MetaformError(`invalid YAML: ${message}`, this.locationOfOffset(error.pos[0]));
  }

  /** The first key (or item) of the collection that holds a key (or item) starting at `offset`. */
  private firstSibling(offset: number): Node | undefined {
    let found: Node | undefined;
    const starts = (node: unknown) => (node as Node | null)?.range?.[0] === offset;
    visit(this.document, {
      Map: (_, map) => {
        if (!map.items.some((pair) => starts(pair.key))) return undefined;
        found = map.items[0]?.key as Node | undefined;
        return visit.BREAK;
      },
      Seq: (_, seq) => {
        if (!seq.items.some((item) => starts(item))) return undefined;
        found = seq.items[0] as Node | undefined;
        return visit.BREAK;
      },
    });
    return found;
  }

  /** Duplicate keys, keys that are not text, lone surrogates: found while indexing. */
  private readonly problems: MetaformError[] = [];
  private readonly duplicates: Node[] = [];

  /** The plain data; an alias bomb or a dangling alias is an error at the alias. */
  toJS(): unknown {
    if (this.data !== undefined) return this.data;
    try {
      return this.document.toJS();
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      const start = this.document.contents?.range?.[0] ?? 0;
      if (/excessive alias count/i.test(error.message))
        throw new MetaformError(
          'invalid YAML: aliases expand to too many nodes (a "billion laughs" file)',
          this.locationOfOffset(this.firstAlias(undefined)?.range?.[0] ?? start),
          'write the values out instead of nesting aliases',
        );
      const unresolved = /^Unresolved alias.*: (.*)$/.exec(error.message);
      if (unresolved)
        throw new MetaformError(
          `invalid YAML: ${error.message}`,
          this.locationOfOffset(this.firstAlias(unresolved[1])?.range?.[0] ?? start),
          'set the anchor (&name) before its alias (*name)',
        );
      throw new MetaformError(`invalid YAML: ${error.message}`, this.locationOfOffset(start));
    }
  }

  /** The first alias in the file, or the first naming `anchor`. */
  private firstAlias(anchor: string | undefined): Node | undefined {
    let found: Node | undefined;
    visit(this.document, {
      Alias: (_, node) => {
        if (anchor !== undefined && node.source !== anchor) return undefined;
        found = node;
        return visit.BREAK;
      },
    });
    return found;
  }

  locationOfOffset(offset: number): SourceLocation {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.displayPath, line, col };
  }

  /** The node a value starts at, as a location. */
  locationOf(node: Node | null | undefined): SourceLocation {
    return this.locationOfOffset(node?.range?.[0] ?? this.document.contents?.range?.[0] ?? 0);
  }

  /** The node itself, or what an alias stands for. */
  resolve(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.document) : node;
  }

  /**
   * Key and value node of every map entry and sequence item, by path: built on first use, for
   * locating errors (the loader walks the nodes themselves and never needs it).
   */
  private index?: Map<string, { key: Node; value: Node | null }>;

  private buildIndex(): Map<string, { key: Node; value: Node | null }> {
    const index = new Map<string, { key: Node; value: Node | null }>();
    const visitNode = (node: unknown, prefix: string) => {
      if (isMap(node)) {
        for (const pair of node.items) {
          if (!isScalar(pair.key)) continue;
          const path = `${prefix}\u0000${String(pair.key.value)}`;
          index.set(path, { key: pair.key, value: (pair.value as Node | null) ?? null });
          visitNode(pair.value, path);
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, i) => {
          const path = `${prefix}\u0000${i}`;
          index.set(path, { key: item as Node, value: item as Node });
          visitNode(item, path);
        });
      }
    };
    visitNode(this.document.contents, '');
    return index;
  }

  /** Duplicate keys, keys that are not text, lone surrogates: one walk, no index. */
  private check(): void {
    const visitNode = (node: unknown) => {
      if (isMap(node)) {
        const seen = new Set<string>();
        for (const pair of node.items) {
          if (!isScalar(pair.key)) {
            const at = (pair.key as Node | null)?.range?.[0] ?? (pair.value as Node | null)?.range?.[0] ?? node.range?.[0] ?? 0;
            this.problems.push(new MetaformError('a key must be a name: this one is empty, a list or a map', this.locationOfOffset(at), 'write the name before the colon'));
            continue;
          }
          this.checkKey(pair.key);
          const name = String(pair.key.value);
          if (seen.has(name)) this.duplicates.push(pair.key);
          seen.add(name);
          visitNode(pair.value);
        }
      } else if (isSeq(node)) {
        for (const item of node.items) visitNode(item);
      } else if (isScalar(node)) this.checkText(node);
    };
    visitNode(this.document.contents);
    for (const node of this.duplicates)
      this.problems.push(
        new MetaformError(`invalid YAML: duplicate key "${String(isScalar(node) ? node.value : '')}"`, this.locationOfOffset(node.range?.[0] ?? 0), 'a key may appear once per map'),
      );
  }

  /**
   * Keys are names (of schemas, tables, columns, tags, services...). A plain `010:` or `true:`
   * would silently become another name ("10", "true" by way of a boolean), so it is refused.
   */
  private checkKey(key: Scalar): void {
    if (typeof key.value === 'string') return this.checkText(key);
    const source = sourceText(key);
    this.problems.push(
      new MetaformError(
        `key ${source} is read by YAML as ${describeValue(key.value)}, not as a name`,
        this.locationOfOffset(key.range?.[0] ?? 0),
        `quote it: ${quoted(source)}:`,
      ),
    );
  }

  /** A lone surrogate (from a "\ud800" escape) cannot be stored as UTF-8 and never converges. */
  private checkText(node: Scalar): void {
    if (typeof node.value !== 'string') return;
    const lone = LONE_SURROGATE.exec(node.value)?.[0];
    if (lone === undefined) return;
    const escape = `\\u${lone.charCodeAt(0).toString(16).padStart(4, '0')}`;
    this.problems.push(
      new MetaformError(
        `text with a lone surrogate (${escape}): it is half of a character, which no database can store`,
        this.locationOfOffset(node.range?.[0] ?? 0),
        'write the character itself, or both halves of its surrogate pair (e.g. "\\ud83d\\ude00")',
      ),
    );
  }

  /** The value node at `path`, if the file has one there. */
  private nodeAt(path: readonly (string | number)[]): Node | null | undefined {
    this.index ??= this.buildIndex();
    if (path.length === 0) return this.document.contents;
    return this.index.get(path.map((segment) => `\u0000${segment}`).join(''))?.value;
  }

  /** Where the value at `path` starts (or its key, with `key`); the nearest ancestor if absent. */
  locate(path: readonly (string | number)[], key = false): SourceLocation {
    this.index ??= this.buildIndex();
    for (let depth = path.length; depth > 0; depth--) {
      const entry = this.index.get(path.slice(0, depth).map((segment) => `\u0000${segment}`).join(''));
      if (entry) return this.locationOfOffset(((key || !entry.value ? entry.key : entry.value).range ?? [0])[0]);
    }
    return this.locationOfOffset(this.document.contents?.range?.[0] ?? 0);
  }

  /**
   * Where the `occurrence`-th `text` (0-based) is written inside the string value at `path`; the
   * value's start when the source spells it otherwise (escapes).
   */
  locateInValue(path: readonly (string | number)[], text: string, occurrence = 0): SourceLocation {
    const node = this.nodeAt(path);
    const range = node?.range;
    if (!range) return this.locate(path);
    const source = this.text.slice(range[0], range[1]);
    let index = -1;
    for (let seen = 0; seen <= occurrence; seen++) {
      index = source.indexOf(text, index + 1);
      if (index < 0) return this.locate(path);
    }
    return this.locationOfOffset(range[0] + index);
  }

  /** Turns ajv errors into located, readable errors. */
  schemaErrors(errors: readonly ErrorObject[]): MetaformError[] {
    return errors.map((error) => {
      const path = error.instancePath
        .split('/')
        .slice(1)
        .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
      const where = path.length ? path.join('.') : '(top level)';
      if (error.keyword === 'additionalProperties') {
        const extra = String(error.params['additionalProperty']);
        const allowed = allowedKeys(error);
        const guess = allowed.find((candidate) => editDistance(candidate, extra) <= 2);
        return new MetaformError(
          `unknown key "${extra}" in ${where}`,
          this.locate([...path, extra], true),
          `${guess ? `did you mean "${guess}"? ` : ''}allowed keys: ${allowed.join(', ') || 'see the schema'}`,
        );
      }
      if (error.keyword === 'type') {
        const node = this.nodeAt(path);
        const expected = ([] as unknown[]).concat(error.schema);
        if (isScalar(node) && node.type === 'PLAIN' && typeof node.value !== 'string' && expected.includes('string')) {
          const source = sourceText(node);
          return new MetaformError(`${where} must be a string: YAML reads ${source} as ${describeValue(node.value)}`, this.locate(path), `quote it: ${quoted(source)}`);
        }
      }
      if (error.keyword === 'enum') {
        const allowed = (error.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ');
        return new MetaformError(`${where} must be one of ${allowed}`, this.locate(path));
      }
      return new MetaformError(`${where} ${error.message ?? 'is invalid'}`, this.locate(path));
    });
  }
}

function displayPath(path: string, root: string): string {
  return relative(root, path) || path;
}

/** What YAML made of a plain scalar, in words. */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'bigint') return `the number ${String(value)}`;
  if (typeof value === 'boolean') return `the boolean ${String(value)}`;
  return `a ${typeof value}`;
}

function sourceText(node: Scalar): string {
  return node.source ?? String(node.value);
}

function quoted(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Why a file could not be read, in words, naming it (never a bare EISDIR). */
export function readFailure(error: unknown, display: string): MetaformError {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const reasons: Record<string, [string, string]> = {
    ENOENT: ['it does not exist', 'check the path'],
    EISDIR: ['it is a directory', 'it must be a file'],
    ENOTDIR: ['a part of its path is not a directory', 'check the path'],
    EACCES: ['permission denied', 'let the user running metaform read it'],
    EPERM: ['permission denied', 'let the user running metaform read it'],
    ELOOP: ['its symbolic links form a loop', 'point the link at a file'],
  };
  const [reason, hint] = (code ? reasons[code] : undefined) ?? [error instanceof Error ? error.message : String(error), 'check the file'];
  return new MetaformError(`${display}: cannot read: ${reason}`, undefined, hint);
}

/**
 * Strict UTF-8: a Latin-1 byte would otherwise become U+FFFD and reach the database. On failure,
 * the place of the first bad byte (a U+FFFD that the file really holds is skipped).
 */
export function decodeUtf8(bytes: Uint8Array, display: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const lenient = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
    let byteOffset = 0;
    let from = 0;
    let index = lenient.indexOf('\uFFFD');
    while (index >= 0) {
      byteOffset += Buffer.byteLength(lenient.slice(from, index));
      if (bytes[byteOffset] !== 0xef || bytes[byteOffset + 1] !== 0xbf || bytes[byteOffset + 2] !== 0xbd) break;
      byteOffset += 3;
      from = index + 1;
      index = lenient.indexOf('\uFFFD', from);
    }
    const position = index < 0 ? lenient.length : index;
    const lineStart = lenient.lastIndexOf('\n', position - 1) + 1;
    let line = 1;
    for (let i = lenient.indexOf('\n'); i >= 0 && i < position; i = lenient.indexOf('\n', i + 1)) line++;
    const byte = (bytes[byteOffset] ?? 0).toString(16).toUpperCase().padStart(2, '0');
    throw new MetaformError(
      `not valid UTF-8 (byte 0x${byte} at offset ${byteOffset})`,
      { file: display, line, col: position - lineStart + 1 },
      'save the file as UTF-8 (it looks like another encoding, such as Latin-1 or Windows-1252)',
    );
  }
}

function allowedKeys(error: ErrorObject): string[] {
  const properties = (error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return properties ? Object.keys(properties) : [];
}

/** Levenshtein distance, for "did you mean" on misspelt keys. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length] ?? 0;
}
