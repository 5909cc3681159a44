import type { LiveObject } from '../../core/model.js';
import { liveChild, newLiveObject } from '../../core/model.js';
import { runPool } from '../../core/pool.js';
import { schemaCondition, schemaScope, SYSTEM_SCHEMAS } from '../shared/schemas.js';
import { HIVE_METASTORE, quoteDatabricksIdentifier, quoteDatabricksLiteral } from './dialect.js';
import { rowComment, rowNullable as nullable, rowText as text } from '../shared/rows.js';

/** Runs one query, rows as objects keyed by column name. */
export type Query = (sql: string) => Promise<Record<string, unknown>[]>;

const VIEWS = 'system.information_schema';

/**
 * The catalog queries of one Unity Catalog catalog: one per information_schema view, eight
 * whatever the number of schemas, tables and columns. `system.information_schema` spans every
 * catalog the caller may see; each query is filtered to the one catalog (and its schemas, when
 * the YAML names only some).
 */
export function catalogQueries(catalog: string, schemas: readonly string[] | undefined): string[] {
  const lit = quoteDatabricksLiteral;
  const scope = schemaScope(schemas?.map((schema) => schema.toLowerCase()));
  const ownQueries = [
    `SELECT catalog_name, catalog_owner, comment FROM ${VIEWS}.catalogs WHERE catalog_name = ${lit(catalog)}`,
    `SELECT tag_name, tag_value FROM ${VIEWS}.catalog_tags WHERE catalog_name = ${lit(catalog)}`,
  ];
  // No schema named: the catalog's own properties only.
  if (scope.read === 'none') return ownQueries;
  const of = (catalogColumn: string, schemaColumn: string) =>
    `WHERE ${catalogColumn} = ${lit(catalog)} AND ${schemaCondition(schemaColumn, scope, SYSTEM_SCHEMAS.databricks, (name) => lit(name))}`;
  return [
    ...ownQueries,
    `SELECT schema_name, schema_owner, comment FROM ${VIEWS}.schemata ${of('catalog_name', 'schema_name')}`,
    `SELECT table_schema, table_name, table_type, table_owner, comment FROM ${VIEWS}.tables ${of('table_catalog', 'table_schema')}`,
    `SELECT table_schema, table_name, column_name, ordinal_position, comment FROM ${VIEWS}.columns ${of('table_catalog', 'table_schema')}`,
    `SELECT schema_name, tag_name, tag_value FROM ${VIEWS}.schema_tags ${of('catalog_name', 'schema_name')}`,
    `SELECT schema_name, table_name, tag_name, tag_value FROM ${VIEWS}.table_tags ${of('catalog_name', 'schema_name')}`,
    `SELECT schema_name, table_name, column_name, tag_name, tag_value FROM ${VIEWS}.column_tags ${of('catalog_name', 'schema_name')}`,
  ];
}


export interface CatalogRead {
  /** undefined when the catalog does not exist (or the caller cannot see it). */
  database?: LiveObject;
  queries: number;
}

/** Reads one catalog in eight bulk queries, two when no schema is named (see catalogQueries). */
export async function readDatabricksCatalog(query: Query, catalog: string, schemas: readonly string[] | undefined): Promise<CatalogRead> {
  const sql = catalogQueries(catalog, schemas);
  const results: Record<string, unknown>[][] = [];
  // One session; the queries go one after another.
  for (const statement of sql) results.push(await query(statement));
  const [catalogRows = [], catalogTags = [], schemaRows = [], tableRows = [], columnRows = [], schemaTags = [], tableTags = [], columnTags = []] = results;
  const [row] = catalogRows;
  if (!row) return { queries: sql.length };
  const database = newLiveObject('database', text(row['catalog_name']));
  database.owner = nullable(row['catalog_owner']);
  database.description = rowComment(row['comment']);
  database.tags = {};
  for (const schemaRow of schemaRows) {
    const schema = liveChild(database, 'schema', text(schemaRow['schema_name']));
    schema.owner = nullable(schemaRow['schema_owner']);
    schema.description = rowComment(schemaRow['comment']);
    schema.tags = {};
  }
  const tableOf = (schema: unknown, table: unknown) => liveChild(liveChild(database, 'schema', text(schema)), 'table', text(table));
  for (const tableRow of tableRows) {
    const table = tableOf(tableRow['table_schema'], tableRow['table_name']);
    table.owner = nullable(tableRow['table_owner']);
    table.description = rowComment(tableRow['comment']);
    table.facts = { tableType: text(tableRow['table_type']) };
    table.tags = {};
  }
  // Rows in any order; the columns of each table are put in ordinal order afterwards.
  const positions = new Map<LiveObject, Map<string, number>>();
  for (const columnRow of columnRows) {
    const table = tableOf(columnRow['table_schema'], columnRow['table_name']);
    const name = text(columnRow['column_name']);
    const column = liveChild(table, 'column', name);
    column.description = rowComment(columnRow['comment']);
    column.tags = {};
    let byName = positions.get(table);
    if (!byName) positions.set(table, (byName = new Map()));
    byName.set(name, Number(columnRow['ordinal_position']));
  }
  for (const [table, byName] of positions) {
    let sorted = true;
    let last = -Infinity;
    for (const name of table.children.keys()) {
      const position = byName.get(name) ?? 0;
      if (position < last) sorted = false;
      last = position;
    }
    if (!sorted) table.children = new Map([...table.children].sort(([a], [b]) => (byName.get(a) ?? 0) - (byName.get(b) ?? 0)));
  }
  // A key-only tag reads back with an empty value.
  const tag = (object: LiveObject, tagRow: Record<string, unknown>) => {
    (object.tags ??= {})[text(tagRow['tag_name'])] = text(tagRow['tag_value']);
  };
  for (const tagRow of catalogTags) tag(database, tagRow);
  for (const tagRow of schemaTags) tag(liveChild(database, 'schema', text(tagRow['schema_name'])), tagRow);
  for (const tagRow of tableTags) tag(tableOf(tagRow['schema_name'], tagRow['table_name']), tagRow);
  for (const tagRow of columnTags) {
    const table = tableOf(tagRow['schema_name'], tagRow['table_name']);
    const column = table.children.get(text(tagRow['column_name']));
    if (column) tag(column, tagRow);
  }
  return { database, queries: sql.length };
}

/**
 * hive_metastore has no information_schema: its schemas are listed with SHOW SCHEMAS, each
 * schema's comment and tables with DESCRIBE SCHEMA EXTENDED and SHOW TABLES, and each table's
 * comment and column comments with DESCRIBE TABLE EXTENDED. That is one query per schema and per
 * table (of the schemas the YAML names), the only way there is; they run `concurrency` at a time.
 */
export async function readHiveMetastore(query: Query, schemas: readonly string[] | undefined, concurrency: number): Promise<CatalogRead> {
  const id = quoteDatabricksIdentifier;
  let queries = 1;
  const database = newLiveObject('database', HIVE_METASTORE);
  const listed = (await query(`SHOW SCHEMAS IN ${id(HIVE_METASTORE)}`)).map((row) => text(row['databaseName'] ?? row['namespace']));
  const wanted = schemas === undefined ? undefined : new Set(schemas.map((schema) => schema.toLowerCase()));
  // No schema named: nothing below the catalog is read (hive_metastore has no properties of its own here).
  const schemaNames = wanted?.size === 0 ? [] : listed.filter((name) => wanted === undefined || wanted.has(name.toLowerCase()));
  const tables: { schema: LiveObject; name: string }[] = [];
  await runPool(schemaNames, concurrency, async (name) => {
    const qualified = `${id(HIVE_METASTORE)}.${id(name)}`;
    const [described, listedTables] = [await query(`DESCRIBE SCHEMA EXTENDED ${qualified}`), await query(`SHOW TABLES IN ${qualified}`)];
    queries += 2;
    const schema = liveChild(database, 'schema', name);
    const comment = described.find((row) => row['database_description_item'] === 'Comment')?.['database_description_value'];
    schema.description = rowComment(comment);
    for (const row of listedTables) if (row['isTemporary'] !== true && row['isTemporary'] !== 'true') tables.push({ schema, name: text(row['tableName']) });
  });
  await runPool(tables, concurrency, async ({ schema, name }) => {
    const rows = await query(`DESCRIBE TABLE EXTENDED ${id(HIVE_METASTORE)}.${id(schema.name)}.${id(name)}`);
    queries++;
    const table = liveChild(schema, 'table', name);
    let inColumns = true;
    table.description = null;
    for (const row of rows) {
      const item = text(row['col_name']);
      // The columns come first, up to a blank row or a '# ...' section (partitioning, details).
      if (item === '' || item.startsWith('# ')) inColumns = false;
      if (inColumns) liveChild(table, 'column', item).description = rowComment(row['comment']);
      else if (item === 'Comment') table.description = rowComment(row['data_type']);
      else if (item === 'Type') table.facts = { tableType: text(row['data_type']) };
    }
  });
  return { database, queries };
}
