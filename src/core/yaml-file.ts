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
    const document = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
    const display = relative(root, path) || path;
    const file = new YamlFile(path, display, document, lines);
    if (document.errors.length > 0) {
      throw new MetaformErrors(
        document.errors.map(
          (error) => new MetaformError(`invalid YAML: ${error.message.split('\n')[0]}`, file.locationOfOffset(error.pos[0])),
        ),
      );
    }
    return file;
  }

  toJS(): unknown {
    return this.document.toJS();
  }

  locationOfOffset(offset: number): SourceLocation {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.displayPath, line, col };
  }

  /** Where the value at `path` starts (or its key, with `key`); the nearest ancestor if absent. */
  locate(path: readonly (string | number)[], key = false): SourceLocation {
    let node: Node | null | undefined = this.document.contents;
    let found: Node | null | undefined = node;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
        if (!pair) break;
        found = key || !pair.value ? (pair.key as Node) : (pair.value as Node);
        node = pair.value as Node | null;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment] as Node | undefined;
        if (!node) break;
        found = node;
      } else break;
    }
    return this.locationOfOffset(found?.range?.[0] ?? 0);
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
