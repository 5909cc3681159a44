import type { CatalogSnapshot } from '../../core/model.js';
import { liveChild, newLiveObject } from '../../core/model.js';
import { clickhouseDialect, DEFAULT_MAX_QUERY_SIZE } from './dialect.js';

/** ClickHouse has databases and tables only; metaform files them under this database name. */
export const CLICKHOUSE_DATABASE = 'default';

/** Databases the engine keeps for itself, read only when named. */
const SYSTEM_DATABASES = ['system', 'INFORMATION_SCHEMA', 'information_schema'];

export type RowReader = (sql: string) => Promise<unknown[][]>;

function databaseFilter(column: string, schemas: readonly string[] | undefined): string {
  if (schemas) return `${column} IN (${schemas.length ? schemas.map((name) => clickhouseDialect.quoteLiteral(name)).join(', ') : "''"})`;
  return `${column} NOT IN (${SYSTEM_DATABASES.map((name) => clickhouseDialect.quoteLiteral(name)).join(', ')})`;
}

/**
 * Server facts: the version (which statements exist) and max_query_size (the longest statement
 * the server parses, and the largest table metadata it accepts to write).
 */
export const CLICKHOUSE_VERSION_SQL = `SELECT version(), (SELECT value FROM system.settings WHERE name = 'max_query_size')`;

/**
 * A materialized view without TO keeps its rows in an inner table named `.inner.<view>` or
 * `.inner_id.<uuid>`: an implementation detail, hidden. Other names starting with a dot are tables.
 */
const NOT_INNER_TABLE = `NOT (startsWith(name, '.inner.') OR startsWith(name, '.inner_id.'))`;

/** The catalog queries after the server facts: system.databases, system.tables, system.columns of the managed databases. */
export function clickhouseCatalogQueries(schemas: readonly string[] | undefined): { databases: string; tables: string; columns: string } {
  return {
    databases: `SELECT name, comment, engine FROM system.databases WHERE ${databaseFilter('name', schemas)}`,
    tables: `SELECT database, name, engine, comment FROM system.tables WHERE ${databaseFilter('database', schemas)} AND NOT is_temporary AND ${NOT_INNER_TABLE}`,
    columns: `SELECT database, table, name, comment FROM system.columns WHERE ${databaseFilter('database', schemas)} ORDER BY database, table, position`,
  };
}

/** Four queries whatever the number of tables: server facts, system.databases, system.tables, system.columns. */
export async function readClickhouseCatalog(
  service: string,
  read: RowReader,
  databases: readonly string[],
  schemas: readonly string[] | undefined,
): Promise<CatalogSnapshot> {
  const snapshot: CatalogSnapshot = { service, databases: new Map(), server: {}, queries: 0 };
  const [[version, maxQuerySize] = []] = await read(CLICKHOUSE_VERSION_SQL);
  snapshot.server['version'] = String(version);
  const limit = Number(maxQuerySize);
  snapshot.server['maxQuerySize'] = Number.isFinite(limit) && limit > 0 ? limit : DEFAULT_MAX_QUERY_SIZE;
  snapshot.queries = 1;
  if (!databases.includes(CLICKHOUSE_DATABASE)) return snapshot;
  const root = newLiveObject('database', CLICKHOUSE_DATABASE);
  snapshot.databases.set(CLICKHOUSE_DATABASE, root);
  const catalog = clickhouseCatalogQueries(schemas);
  const [databaseRows, tableRows, columnRows] = [await read(catalog.databases), await read(catalog.tables), await read(catalog.columns)];
  snapshot.queries += 3;
  for (const [name, comment, engine] of databaseRows) {
    const schema = liveChild(root, 'schema', String(name));
    schema.description = String(comment) || null;
    schema.facts = { engine: String(engine) };
  }
  for (const [database, name, engine, comment] of tableRows) {
    const table = liveChild(liveChild(root, 'schema', String(database)), 'table', String(name));
    table.description = String(comment) || null;
    table.facts = { engine: String(engine) };
  }
  for (const [database, table, name, comment] of columnRows) {
    const parent = root.children.get(String(database))?.children.get(String(table));
    if (parent) liveChild(parent, 'column', String(name)).description = String(comment) || null;
  }
  return snapshot;
}

/** Tables per query when reading the size of their metadata (keeps the IN list far below max_query_size). */
const METADATA_CHUNK = 200;

/**
 * The exact size of some tables' metadata (length(create_table_query) costs some 35 µs a table,
 * so it is read only for the tables whose comments may bring it near max_query_size).
 */
export function metadataSizeQueries(tables: readonly (readonly string[])[]): string[] {
  const queries: string[] = [];
  for (let start = 0; start < tables.length; start += METADATA_CHUNK) {
    const tuples = tables
      .slice(start, start + METADATA_CHUNK)
      .map(([, database = '', table = '']) => `(${clickhouseDialect.quoteLiteral(database)}, ${clickhouseDialect.quoteLiteral(table)})`);
    queries.push(`SELECT database, name, length(create_table_query) FROM system.tables WHERE (database, name) IN (${tuples.join(', ')})`);
  }
  return queries;
}
