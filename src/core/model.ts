/**
 * The vocabulary shared by every stage of the pipeline:
 * load (desired) -> read (live) -> diff (changes) -> plan (operations) -> apply (results).
 * Nothing here knows about a particular engine.
 */

export type Level = 'database' | 'schema' | 'table' | 'column';
export const LEVELS: readonly Level[] = ['database', 'schema', 'table', 'column'];

/** The managed properties of an object. `tag` changes carry the tag key. */
export type Property = 'description' | 'owner' | 'tag';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/**
 * One object as the source has it. A property that is `undefined` was not read (the engine
 * does not support it); `null` means the object has none.
 */
export interface LiveObject {
  level: Level;
  name: string;
  description?: string | null;
  owner?: string | null;
  tags?: Record<string, string>;
  /** Connector-private facts that rendering needs (MySQL column definition, relkind, ...). */
  facts?: Record<string, JsonValue>;
  children: Map<string, LiveObject>;
}

/** What one bulk read of a service returned. */
export interface CatalogSnapshot {
  service: string;
  /** Databases that were read, by name. */
  databases: Map<string, LiveObject>;
  /** Server facts the dialect depends on that hold for the whole service (version, sql_mode...). */
  server: Record<string, JsonValue>;
  /**
   * Facts that differ per database (PostgreSQL's standard_conforming_strings is a per-database
   * setting): rendering a database's statements uses these over `server`.
   */
  databaseFacts?: Map<string, Record<string, JsonValue>>;
  /** Catalog queries issued to build this snapshot (the bench reports it). */
  queries: number;
}

/** The server facts statements for `database` are rendered under. */
export function serverFactsOf(snapshot: CatalogSnapshot, database: string): Record<string, JsonValue> {
  const own = snapshot.databaseFacts?.get(database);
  return own ? { ...snapshot.server, ...own } : snapshot.server;
}

export type ChangeAction = 'add' | 'update' | 'remove';

/** One property of one object that differs between desired and live state. */
export interface Change {
  /** Stable within a plan: `<address>#<property>[:<key>]`. */
  id: string;
  service: string;
  /** `warehouse.analytics.sales.orders.email` (names with dots or quotes are double-quoted). */
  address: string;
  /** Names below the service: [database, schema?, table?, column?]. */
  path: string[];
  level: Level;
  property: Property;
  /** Tag key, for `tag` changes. */
  key?: string;
  action: ChangeAction;
  before: string | null;
  after: string | null;
  /** Where the desired value was written. */
  source?: SourceLocation;
  /**
   * Absent: the diff made it. `prepare`: the connector's prepare() added it (a change the others
   * need, such as Snowflake creating a missing tag object); preparing again adds it again when it
   * is still needed, so a saved plan's such changes are not checked for staleness.
   */
  origin?: 'prepare';
}

/** The one spelling of a change's id: `<address>#<property>[:<key>]` (a suffix names connector-added kinds). */
export function changeId(address: string, property: string, key?: string): string {
  return `${address}#${property}${key === undefined ? '' : `:${key}`}`;
}

/** A unit of execution: statements that together make one or more changes happen. */
export interface Operation {
  id: string;
  service: string;
  database: string;
  changeIds: string[];
  statements: string[];
  /**
   * Operations of the same service and database that must have succeeded before this one starts;
   * when one of them fails or does not run, this one is not run. An object's owner change
   * depends on every other operation on that object (see orderOwnerLast).
   */
  dependsOn?: string[];
}

export interface SkippedChange {
  changeId: string;
  reason: string;
}

/** What a connector (or a template) rendered for the changes of one database. */
export interface RenderResult {
  operations: Operation[];
  skipped: SkippedChange[];
}

export type OperationOutcome = 'succeeded' | 'failed' | 'not-run';

export interface OperationResult {
  operationId: string;
  outcome: OperationOutcome;
  error?: string;
  durationMs: number;
  attempts: number;
}

export function levelOfPath(path: readonly string[]): Level {
  const level = LEVELS[path.length - 1];
  if (!level) throw new Error(`invalid object path [${path.join(', ')}]`);
  return level;
}

/** OpenMetadata-style fully qualified name: parts with dots or quotes are double-quoted. */
export function formatAddress(service: string, path: readonly string[]): string {
  return [service, ...path].map(quoteAddressPart).join('.');
}

function quoteAddressPart(part: string): string {
  return /[."]/.test(part) ? `"${part.replaceAll('"', '""')}"` : part;
}

/** Inverse of formatAddress. */
export function parseAddress(address: string): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i <= address.length) {
    if (address[i] === '"') {
      let part = '';
      i++;
      for (;;) {
        if (i >= address.length) throw new Error(`unterminated quote in address ${address}`);
        if (address[i] === '"') {
          if (address[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += address[i++];
      }
      parts.push(part);
      i++; // the dot
    } else {
      const dot = address.indexOf('.', i);
      const end = dot === -1 ? address.length : dot;
      parts.push(address.slice(i, end));
      i = end + 1;
    }
  }
  return parts;
}

export function findLive(snapshot: CatalogSnapshot, path: readonly string[]): LiveObject | undefined {
  const [database, ...rest] = path;
  if (database === undefined) return undefined;
  let node = snapshot.databases.get(database);
  for (const name of rest) node = node?.children.get(name);
  return node;
}

/** Columns have no children; sharing one map saves an allocation per column (200,000 in a large catalog). */
class NoChildren extends Map<string, LiveObject> {
  override set(): this {
    throw new Error('a column has no children');
  }
}
const NO_CHILDREN: Map<string, LiveObject> = new NoChildren();

export function newLiveObject(level: Level, name: string): LiveObject {
  return { level, name, children: level === 'column' ? NO_CHILDREN : new Map() };
}

/** The child named `name`, created on first use (catalog readers build trees row by row). */
export function liveChild(parent: LiveObject, level: Level, name: string): LiveObject {
  let child = parent.children.get(name);
  if (!child) {
    child = newLiveObject(level, name);
    parent.children.set(name, child);
  }
  return child;
}
