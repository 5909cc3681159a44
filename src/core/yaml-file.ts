import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { ErrorObject } from 'ajv';
import { MetaformError, MetaformErrors } from './errors.js';
import type { SourceLocation } from './model.js';

/** A parsed YAML file that can say where any value in it was written. */
export class YamlFile {
  private constructor(
    readonly path: string,
    readonly displayPath: string,
    readonly document: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  static async read(path: string, root: string): Promise<YamlFile> {
    return YamlFile.parse(await readFile(path, 'utf8'), path, root);
  }

  static parse(text: string, path: string, root: string): YamlFile {
    const lines = new LineCounter();
    // Duplicate keys are found by buildIndex in one pass; yaml's uniqueKeys compares every pair.
    const document = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false });
    const display = relative(root, path) || path;
    const file = new YamlFile(path, display, document, lines);
    if (document.errors.length > 0) {
      throw new MetaformErrors(
        document.errors.map(
          (error) => new MetaformError(`invalid YAML: ${error.message.split('\n')[0]}`, file.locationOfOffset(error.pos[0])),
        ),
      );
    }
    const duplicates = file.duplicateKeys();
    if (duplicates.length > 0) throw new MetaformErrors(duplicates);
    return file;
  }

  private duplicateKeys(): MetaformError[] {
    this.index = this.buildIndex();
    return this.duplicates.map(
      (node) => new MetaformError(`invalid YAML: duplicate key "${String(isScalar(node) ? node.value : '')}"`, this.locationOfOffset(node.range?.[0] ?? 0), 'a key may appear once per map'),
    );
  }

  private duplicates: Node[] = [];

  toJS(): unknown {
    return this.document.toJS();
  }

  locationOfOffset(offset: number): SourceLocation {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.displayPath, line, col };
  }

  /** Key and value node of every map entry and sequence item, by path: built once, on first use. */
  private index?: Map<string, { key: Node; value: Node | null }>;

  private buildIndex(): Map<string, { key: Node; value: Node | null }> {
    const index = new Map<string, { key: Node; value: Node | null }>();
    const visit = (node: unknown, prefix: string) => {
      if (isMap(node)) {
        for (const pair of node.items) {
          if (!isScalar(pair.key)) continue;
          const path = `${prefix}\u0000${String(pair.key.value)}`;
          if (index.has(path)) this.duplicates.push(pair.key);
          index.set(path, { key: pair.key, value: (pair.value as Node | null) ?? null });
          visit(pair.value, path);
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, i) => {
          const path = `${prefix}\u0000${i}`;
          index.set(path, { key: item as Node, value: item as Node });
          visit(item, path);
        });
      }
    };
    visit(this.document.contents, '');
    return index;
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
      if (error.keyword === 'enum') {
        const allowed = (error.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ');
        return new MetaformError(`${where} must be one of ${allowed}`, this.locate(path));
      }
      return new MetaformError(`${where} ${error.message ?? 'is invalid'}`, this.locate(path));
    });
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
