import { readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { ErrorList, formatLocation, MetaformError, MetaformErrors } from './errors.js';
import { formatAddress, type Level, type SourceLocation } from './model.js';
import { schemaValidator } from './schemas.js';
import { isMap, isScalar, isSeq, type Node, type Scalar } from 'yaml';
import { readFailure, YamlFile } from './yaml-file.js';

/** A desired value and the place it was written. */
export interface Managed<T> {
  value: T;
  at: SourceLocation;
}

/** One object named in YAML, merged across files. Absent properties are unmanaged. */
export interface DesiredObject {
  level: Level;
  /** Names as written, below the service: [database, schema?, table?, column?]. */
  path: string[];
  declaredAt: SourceLocation;
  description?: Managed<string | null>;
  owners?: Managed<string[]>;
  /** Tag key -> value (null removes the key). */
  tags?: Map<string, Managed<string | null>>;
  /** Children by canonical name. */
  children: Map<string, DesiredObject>;
}

/** service -> canonical database name -> database object. */
export type DesiredState = Map<string, Map<string, DesiredObject>>;

/** How a service's engine folds a YAML name to the object it designates. */
export type CanonicalName = (service: string, name: string, level: Level) => string;

interface RawProperties {
  description?: string | null;
  owners?: string[];
  tags?: Record<string, string | null>;
}
interface RawColumn extends RawProperties {}
interface RawTable extends RawProperties {
  columns?: Record<string, RawColumn | string | null>;
}
interface RawSchema extends RawProperties {
  tables?: Record<string, RawTable | string | null>;
}
interface RawDatabase extends RawProperties {
  service: string;
  database: string;
  schemas?: Record<string, RawSchema | null>;
}

export interface ListMetadataOptions {
  /** metaform.yaml, to name where a missing folder is configured. */
  configFile?: YamlFile;
  /** A folder that does not exist holds nothing (import is about to create it). */
  allowMissing?: boolean;
}

const YAML_NAME = /\.ya?ml$/;

/**
 * Every *.yaml / *.yml below the metadata folders, in a stable order. Symbolic links to files and
 * folders are followed; each real folder is walked once (so a link loop ends) and each real file
 * listed once. A folder that does not exist is an error naming where it is configured.
 */
export async function listMetadataFiles(root: string, dirs: readonly string[], options: ListMetadataOptions = {}): Promise<string[]> {
  const errors = new ErrorList();
  const files: string[] = [];
  const realFiles = new Set<string>();
  const realDirs = new Set<string>();
  const display = (path: string) => relative(root, path) || path;

  const walk = async (dir: string, realDir: string): Promise<void> => {
    if (realDirs.has(realDir)) return;
    realDirs.add(realDir);
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path, join(realDir, entry.name));
      else if (entry.isFile()) {
        if (YAML_NAME.test(entry.name)) addFile(path, join(realDir, entry.name));
      } else if (entry.isSymbolicLink()) {
        let target: string;
        let isDirectory: boolean;
        try {
          isDirectory = (await stat(path)).isDirectory();
          target = await realpath(path);
        } catch (error) {
          // A dangling link named like a metadata file is a file the user meant to load.
          if (YAML_NAME.test(entry.name)) errors.errors.push(brokenLink(error, display(path)));
          continue;
        }
        if (isDirectory) await walk(path, target);
        else if (YAML_NAME.test(entry.name)) addFile(path, target);
      }
    }
  };
  const addFile = (path: string, real: string) => {
    if (realFiles.has(real)) return;
    realFiles.add(real);
    files.push(path);
  };

  for (const [i, dir] of dirs.entries()) {
    const path = resolve(root, dir);
    const configured = options.configFile?.locate(['metadata', i]);
    const where = options.configFile?.document.has('metadata') ? 'in metaform.yaml' : 'by default (metaform.yaml has no `metadata:` list)';
    let real: string;
    try {
      if (!(await stat(path)).isDirectory()) {
        errors.add(`metadata folder "${dir}", configured ${where}, is not a folder`, configured, 'name a folder that holds the *.yaml files');
        continue;
      }
      real = await realpath(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        if (!options.allowMissing)
          errors.add(`metadata folder "${dir}" does not exist (configured ${where})`, configured, `fix the name, or create ${dir}/`);
      } else errors.errors.push(readFailure(error, display(path)));
      continue;
    }
    await walk(path, real);
  }
  errors.throwIfAny();
  return files.sort();
}

function brokenLink(error: unknown, display: string): MetaformError {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') return new MetaformError(`${display}: cannot read: the symbolic link points to nothing`, undefined, 'fix the link, or remove it');
  return readFailure(error, display);
}

/** Metadata folders that exist but hold no YAML file (worth a warning: nothing there is managed). */
export function emptyMetadataFolders(root: string, dirs: readonly string[], files: readonly string[]): string[] {
  return dirs.filter((dir) => {
    const prefix = resolve(root, dir) + sep;
    return !files.some((file) => file.startsWith(prefix));
  });
}

export interface LoadDesiredOptions {
  root: string;
  files: readonly string[];
  services: ReadonlySet<string>;
  canonicalName: CanonicalName;
}

export async function loadDesired(options: LoadDesiredOptions): Promise<DesiredState> {
  const state: DesiredState = new Map();
  const errors = new ErrorList();
  const validate = schemaValidator('metadata');
  for (const path of options.files) {
    let file: YamlFile;
    try {
      file = await YamlFile.read(path, options.root);
    } catch (error) {
      collect(errors, error);
      continue;
    }
    const raw = file.toJS();
    if (raw === null || raw === undefined) continue; // an empty file declares nothing
    if (!validate(raw)) {
      for (const error of file.schemaErrors(validate.errors ?? [])) errors.errors.push(error);
      continue;
    }
    const doc = raw as RawDatabase;
    if (!options.services.has(doc.service)) {
      errors.add(
        `unknown service "${doc.service}"`,
        file.locate(['service']),
        `services in metaform.yaml: ${[...options.services].join(', ') || '(none)'}`,
      );
      continue;
    }
    // The plain data was for the schema; merging walks the YAML nodes, which know where they are.
    new FileMerger(file, doc.service, options.canonicalName, state, errors).mergeDatabase();
  }
  errors.throwIfAny();
  return state;
}

function collect(errors: ErrorList, error: unknown): void {
  if (error instanceof MetaformErrors) for (const each of error.errors) errors.errors.push(each);
  else if (error instanceof MetaformError) errors.errors.push(error);
  else throw error;
}

/** A map entry whose key is a name (the file was checked: every key is text). */
type Entry = [key: Scalar, value: unknown];

/**
 * Merges one file into the desired state, reporting conflicts with the files merged before. It
 * walks the YAML nodes (validated against the schema already): names come from the keys' text and
 * every location from the node itself, so a file of 200,000 columns needs no index of paths.
 */
class FileMerger {
  constructor(
    private readonly file: YamlFile,
    private readonly service: string,
    private readonly canonicalName: CanonicalName,
    private readonly state: DesiredState,
    private readonly errors: ErrorList,
  ) {}

  private *entries(node: unknown): Generator<Entry> {
    const map = this.file.resolve(node);
    if (!isMap(map)) return;
    for (const pair of map.items) if (isScalar(pair.key)) yield [pair.key, this.file.resolve(pair.value)];
  }

  /** The entry `name` of a map of properties (a handful of keys: a scan is cheapest). */
  private field(node: unknown, name: string): Entry | undefined {
    for (const entry of this.entries(node)) if (entry[0].value === name) return entry;
    return undefined;
  }

  private at(entry: Entry): SourceLocation {
    const [key, value] = entry;
    return this.file.locationOf(isNode(value) ? value : key);
  }

  mergeDatabase(): void {
    const root = this.file.resolve(this.file.document.contents);
    const databaseEntry = this.field(root, 'database');
    if (!databaseEntry) return;
    const databaseName = String(text(databaseEntry[1]));
    let databases = this.state.get(this.service);
    if (!databases) this.state.set(this.service, (databases = new Map()));
    const database = this.object(databases, [databaseName], 'database', databaseEntry[0]);
    if (!database) return;
    this.properties(database, root);
    for (const [schemaKey, schemaNode] of this.entries(this.field(root, 'schemas')?.[1])) {
      const schemaName = String(schemaKey.value);
      const schema = this.object(database.children, [databaseName, schemaName], 'schema', schemaKey);
      if (!schema || !isMap(schemaNode)) continue;
      this.properties(schema, schemaNode);
      for (const [tableKey, tableNode] of this.entries(this.field(schemaNode, 'tables')?.[1])) {
        const tableName = String(tableKey.value);
        const table = this.object(schema.children, [databaseName, schemaName, tableName], 'table', tableKey);
        if (!table) continue;
        if (!isMap(tableNode)) {
          // `orders: One row per order` is the description; `orders:` alone declares the table.
          if (text(tableNode) !== null) this.description(table, [tableKey, tableNode]);
          continue;
        }
        this.properties(table, tableNode);
        for (const [columnKey, columnNode] of this.entries(this.field(tableNode, 'columns')?.[1])) {
          const column = this.object(table.children, [databaseName, schemaName, tableName, String(columnKey.value)], 'column', columnKey);
          if (!column) continue;
          // `id: Primary key` and `id:` (no description) are shorthands for the description.
          if (isMap(columnNode)) this.properties(column, columnNode);
          else this.description(column, [columnKey, columnNode]);
        }
      }
    }
  }

  /** The object at `path`, created on first mention; two spellings of one object conflict. */
  private object(siblings: Map<string, DesiredObject>, path: string[], level: Level, key: Scalar): DesiredObject | undefined {
    const name = path[path.length - 1] ?? '';
    const at = this.file.locationOf(key);
    const canonical = this.canonicalName(this.service, name, level);
    const existing = siblings.get(canonical);
    if (!existing) {
      const created: DesiredObject = { level, path, declaredAt: at, children: level === 'column' ? NO_CHILDREN : new Map() };
      siblings.set(canonical, created);
      return created;
    }
    const existingName = existing.path[existing.path.length - 1];
    if (existingName !== name) {
      this.errors.add(
        `${level} "${name}" and "${existingName}" resolve to the same object ${formatAddress(this.service, existing.path)}; ` +
          `the other is at ${formatLocation(existing.declaredAt)}`,
        at,
        'keep one spelling of the name',
      );
      return undefined;
    }
    return existing;
  }

  private description(target: DesiredObject, entry: Entry): void {
    const at = this.at(entry);
    const value = text(entry[1]);
    if (target.description) this.twice('description', target, target.description.at, at);
    // "" and null both mean "no description": engines store an empty comment as none.
    else target.description = { value: value === '' ? null : value, at };
  }

  private properties(target: DesiredObject, node: unknown): void {
    for (const entry of this.entries(node)) {
      const [key, value] = entry;
      if (key.value === 'description') this.description(target, entry);
      else if (key.value === 'owners') {
        const at = this.at(entry);
        const list = this.file.resolve(value);
        const owners = isSeq(list) ? list.items.map((item) => String(text(this.file.resolve(item)))) : [];
        if (target.owners) this.twice('owners', target, target.owners.at, at);
        else target.owners = { value: owners, at };
      } else if (key.value === 'tags') {
        target.tags ??= new Map();
        for (const tag of this.entries(value)) {
          const name = String(tag[0].value);
          const wanted = text(tag[1]);
          const at = this.at(tag);
          const existing = target.tags.get(name);
          if (existing && existing.value !== wanted) {
            this.errors.add(
              `ambiguous tag ${name} on ${formatAddress(this.service, target.path)}: "${existing.value}" (${formatLocation(existing.at)}) and "${wanted}"`,
              at,
              'a source key holds one value: keep one of them',
            );
          } else if (!existing) target.tags.set(name, { value: wanted, at });
        }
      }
    }
  }

  private twice(property: string, target: DesiredObject, first: SourceLocation, second: SourceLocation): void {
    this.errors.add(
      `${property} of ${formatAddress(this.service, target.path)} is defined twice: at ${formatLocation(first)} and here`,
      second,
      'define each property in one file only',
    );
  }
}

function isNode(value: unknown): value is Node {
  return isScalar(value) || isMap(value) || isSeq(value);
}

/** A scalar's text; null for an empty value or `~`/`null` (the schema admits nothing else here). */
function text(node: unknown): string | null {
  if (!isScalar(node) || node.value === null || node.value === undefined) return null;
  return String(node.value);
}

/** Columns have no children: one shared empty map instead of one per column. */
class NoChildren extends Map<string, DesiredObject> {
  override set(): this {
    throw new Error('a column has no children');
  }
}
const NO_CHILDREN: Map<string, DesiredObject> = new NoChildren();

/** Depth-first walk of every desired object of a service. */
export function* walkDesired(databases: Map<string, DesiredObject>): Generator<DesiredObject> {
  const stack = [...databases.values()].reverse();
  while (stack.length > 0) {
    const node = stack.pop() as DesiredObject;
    yield node;
    // A loop, not push(...children): a schema may hold 130,000 tables.
    const children = [...node.children.values()];
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as DesiredObject);
  }
}
