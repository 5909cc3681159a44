import type { CatalogSnapshot } from '../../core/model.js';
import { liveChild, newLiveObject } from '../../core/model.js';
import { schemaCondition, schemaScope, scopeBelow, SYSTEM_SCHEMAS, type SchemaScope } from '../shared/schemas.js';
import { clickhouseDialect, DEFAULT_MAX_QUERY_SIZE } from './dialect.js';
import { rowComment, rowText as text } from '../shared/rows.js';

/** ClickHouse has databases and tables only; metaform files them under this database name. */
export const CLICKHOUSE_DATABASE = 'default';

export type RowReader = (sql: string) => Promise<unknown[][]>;

function databaseFilter(column: string, scope: Exclude<SchemaScope, { read: 'none' }>): string {
  return schemaCondition(column, scope, SYSTEM_SCHEMAS.clickhouse, (name) => clickhouseDialect.quoteLiteral(name));
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
  const scope = scopeBelow(schemas);
  return {
    databases: `SELECT name, comment, engine FROM system.databases WHERE ${databaseFilter('name', scope)}`,
    tables: `SELECT database, name, engine, comment FROM system.tables WHERE ${databaseFilter('database', scope)} AND NOT is_temporary AND ${NOT_INNER_TABLE}`,
    columns: `SELECT database, table, name, comment FROM system.columns WHERE ${databaseFilter('database', scope)} ORDER BY database, table, position`,
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
  snapshot.server['version'] = text(version);
  const limit = Number(maxQuerySize);
  snapshot.server['maxQuerySize'] = Number.isFinite(limit) && limit > 0 ? limit : DEFAULT_MAX_QUERY_SIZE;
  snapshot.queries = 1;
  if (!databases.includes(CLICKHOUSE_DATABASE)) return snapshot;
  const root = newLiveObject('database', CLICKHOUSE_DATABASE);
  snapshot.databases.set(CLICKHOUSE_DATABASE, root);
  const scope = schemaScope(schemas);
  if (scope.read === 'none') return snapshot;
  const catalog = clickhouseCatalogQueries(schemas);
  const [databaseRows, tableRows, columnRows] = [await read(catalog.databases), await read(catalog.tables), await read(catalog.columns)];
  snapshot.queries += 3;
  for (const [name, comment, engine] of databaseRows) {
    const schema = liveChild(root, 'schema', text(name));
    schema.description = rowComment(comment);
    schema.facts = { engine: text(engine) };
  }
  for (const [database, name, engine, comment] of tableRows) {
    const table = liveChild(liveChild(root, 'schema', text(database)), 'table', text(name));
    table.description = rowComment(comment);
    table.facts = { engine: text(engine) };
  }
  for (const [database, table, name, comment] of columnRows) {
    const parent = root.children.get(text(database))?.children.get(text(table));
    if (parent) liveChild(parent, 'column', text(name)).description = rowComment(comment);
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
