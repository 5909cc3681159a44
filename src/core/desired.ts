import { readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { ErrorList, formatLocation, MetaformError, MetaformErrors } from './errors.js';
import { formatAddress, type Level, type SourceLocation } from './model.js';
import { schemaValidator } from './schemas.js';
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
      errors.errors.push(...file.schemaErrors(validate.errors ?? []));
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
    new FileMerger(file, doc.service, options.canonicalName, state, errors).mergeDatabase(doc);
  }
  errors.throwIfAny();
  return state;
}

function collect(errors: ErrorList, error: unknown): void {
  if (error instanceof MetaformErrors) errors.errors.push(...error.errors);
  else if (error instanceof MetaformError) errors.errors.push(error);
  else throw error;
}

/** Merges one file into the desired state, reporting conflicts with the files merged before. */
class FileMerger {
  constructor(
    private readonly file: YamlFile,
    private readonly service: string,
    private readonly canonicalName: CanonicalName,
    private readonly state: DesiredState,
    private readonly errors: ErrorList,
  ) {}

  mergeDatabase(doc: RawDatabase): void {
    let databases = this.state.get(this.service);
    if (!databases) this.state.set(this.service, (databases = new Map()));
    const database = this.object(databases, [doc.database], 'database', ['database']);
    if (!database) return;
    this.properties(database, doc, []);
    for (const [schemaName, schema] of Object.entries(doc.schemas ?? {})) {
      const schemaYaml = ['schemas', schemaName];
      const schemaObject = this.object(database.children, [doc.database, schemaName], 'schema', schemaYaml);
      if (!schemaObject || !schema) continue;
      this.properties(schemaObject, schema, schemaYaml);
      for (const [tableName, table] of Object.entries(schema.tables ?? {})) {
        const tableYaml = [...schemaYaml, 'tables', tableName];
        const tableObject = this.object(schemaObject.children, [doc.database, schemaName, tableName], 'table', tableYaml);
        if (!tableObject || table === null) continue;
        const tableProps: RawTable = typeof table === 'string' ? { description: table } : table;
        this.properties(tableObject, tableProps, tableYaml, typeof table === 'string');
        for (const [columnName, column] of Object.entries(tableProps.columns ?? {})) {
          const columnYaml = [...tableYaml, 'columns', columnName];
          const path = [doc.database, schemaName, tableName, columnName];
          const columnObject = this.object(tableObject.children, path, 'column', columnYaml);
          if (!columnObject) continue;
          const shorthand = typeof column === 'string' || column === null;
          this.properties(columnObject, shorthand ? { description: column } : column, columnYaml, shorthand);
        }
      }
    }
  }

  /** The object at `path`, created on first mention; two spellings of one object conflict. */
  private object(
    siblings: Map<string, DesiredObject>,
    path: string[],
    level: Level,
    yamlPath: string[],
  ): DesiredObject | undefined {
    const name = path[path.length - 1] ?? '';
    const at = this.file.locate(yamlPath, true);
    const canonical = this.canonicalName(this.service, name, level);
    const existing = siblings.get(canonical);
    if (!existing) {
      const created: DesiredObject = { level, path, declaredAt: at, children: new Map() };
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

  private properties(target: DesiredObject, raw: RawProperties, yamlPath: string[], shorthand = false): void {
    const address = formatAddress(this.service, target.path);
    if (raw.description !== undefined) {
      const at = this.file.locate(shorthand ? yamlPath : [...yamlPath, 'description']);
      if (target.description) this.twice('description', address, target.description.at, at);
      // "" and null both mean "no description": engines store an empty comment as none.
      else target.description = { value: raw.description === '' ? null : raw.description, at };
    }
    if (raw.owners !== undefined) {
      const at = this.file.locate([...yamlPath, 'owners']);
      if (target.owners) this.twice('owners', address, target.owners.at, at);
      else target.owners = { value: raw.owners, at };
    }
    if (raw.tags !== undefined) {
      target.tags ??= new Map();
      for (const [key, value] of Object.entries(raw.tags)) {
        const at = this.file.locate([...yamlPath, 'tags', key]);
        const existing = target.tags.get(key);
        if (existing && existing.value !== value) {
          this.errors.add(
            `ambiguous tag ${key} on ${address}: "${existing.value}" (${formatLocation(existing.at)}) and "${value}"`,
            at,
            'a source key holds one value: keep one of them',
          );
        } else if (!existing) target.tags.set(key, { value, at });
      }
    }
  }

  private twice(property: string, address: string, first: SourceLocation, second: SourceLocation): void {
    this.errors.add(
      `${property} of ${address} is defined twice: at ${formatLocation(first)} and here`,
      second,
      'define each property in one file only',
    );
  }
}

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
