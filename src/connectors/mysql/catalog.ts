import type { CatalogSnapshot, JsonValue } from '../../core/model.js';
import { liveChild, newLiveObject } from '../../core/model.js';
import { Parameters, schemaCondition, schemaScope, scopeBelow, SYSTEM_SCHEMAS, type SchemaScope } from '../shared/schemas.js';
import { quoteMysqlIdentifier } from './dialect.js';
import { rowComment, rowText as text } from '../shared/rows.js';

/** MySQL has databases and tables only; metaform files them under this database name. */
export const MYSQL_DATABASE = 'default';

export type RowQuery = (sql: string, values: unknown[]) => Promise<unknown[][]>;

/** Server facts rendering depends on: one query. */
export const SERVER_FACTS_SQL = `SELECT VERSION(), @@SESSION.sql_mode, @@lower_case_table_names,
  (SELECT CHARACTER_SET_NAME FROM information_schema.COLUMNS
    WHERE TABLE_SCHEMA = 'information_schema' AND TABLE_NAME = 'COLUMNS' AND COLUMN_NAME = 'COLUMN_COMMENT'),
  (SELECT COUNT(*) FROM information_schema.COLUMNS
    WHERE TABLE_SCHEMA = 'information_schema' AND TABLE_NAME = 'SCHEMATA' AND COLUMN_NAME = 'SCHEMA_COMMENT')`;

export function serverFacts(row: unknown[]): Record<string, JsonValue> {
  const [version, sqlMode, lowerCaseTableNames, commentCharset, schemaComments] = row;
  const modes = String(sqlMode ?? '').split(',');
  return {
    version: String(version),
    sqlMode: String(sqlMode ?? ''),
    noBackslashEscapes: modes.includes('NO_BACKSLASH_ESCAPES'),
    // utf8 is utf8mb3 on every server that still says utf8.
    commentCharset: String(commentCharset ?? 'utf8mb3').replace(/^utf8$/, 'utf8mb3'),
    schemaComments: Number(schemaComments) > 0,
    // 0: database and table names are case-sensitive; 1, 2: compared in lower case.
    lowerCaseTableNames: Number(lowerCaseTableNames ?? 0),
  };
}

/** The statement prepare() reads a table's column definitions with. */
export const showCreateTableSql = (schema: string, table: string) => `SHOW CREATE TABLE ${quoteMysqlIdentifier(schema)}.${quoteMysqlIdentifier(table)}`;

/** A catalog query and its parameters (mysql2 expands an array parameter into a list). */
export interface MysqlQuery {
  sql: string;
  values: unknown[];
}

/**
 * information_schema compares names without regard to case, yet looks a lone name up as written:
 * measured on MariaDB 10.11 (lower_case_table_names=0), `SCHEMA_NAME IN ('W', 'w')` returns no row
 * at all, hiding the real `w`. Names that differ only in case are compared as bytes (BINARY),
 * which the server cannot look up by name; the reader keeps only the exact names either way.
 */
function schemaFilter(column: string, scope: Exclude<SchemaScope, { read: 'none' }>): MysqlQuery {
  const parameters = new Parameters('question');
  const caseTwins = scope.read === 'named' && new Set(scope.names.map((name) => name.toLowerCase())).size < scope.names.length;
  const condition = schemaCondition(column, scope, SYSTEM_SCHEMAS.mysql, parameters.add);
  return { sql: caseTwins ? `BINARY ${condition}` : condition, values: parameters.values };
}

/** The catalog queries after the server facts: SCHEMATA, TABLES, COLUMNS of the managed databases. */
export function mysqlCatalogQueries(
  schemas: readonly string[] | undefined,
  schemaComments: boolean,
): { schemata: MysqlQuery; tables: MysqlQuery; columns: MysqlQuery } {
  const scope = scopeBelow(schemas);
  const bySchema = schemaFilter('SCHEMA_NAME', scope);
  const byTableSchema = schemaFilter('TABLE_SCHEMA', scope);
  return {
    schemata: { sql: `SELECT SCHEMA_NAME, ${schemaComments ? 'SCHEMA_COMMENT' : 'NULL'} FROM information_schema.SCHEMATA WHERE ${bySchema.sql}`, values: bySchema.values },
    tables: {
      sql: `SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, TABLE_COMMENT FROM information_schema.TABLES WHERE ${byTableSchema.sql}`,
      values: byTableSchema.values,
    },
    columns: {
      sql: `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_COMMENT FROM information_schema.COLUMNS WHERE ${byTableSchema.sql} ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
      values: byTableSchema.values,
    },
  };
}

/**
 * Four queries whatever the number of tables: server facts, SCHEMATA, TABLES, COLUMNS.
 * Column definitions (SHOW CREATE TABLE) are read later, only for tables whose column comments
 * change (see the session's prepare()).
 */
export async function readMysqlCatalog(
  service: string,
  query: RowQuery,
  databases: readonly string[],
  schemas: readonly string[] | undefined,
): Promise<CatalogSnapshot> {
  const [facts = []] = await query(SERVER_FACTS_SQL, []);
  const snapshot: CatalogSnapshot = { service, databases: new Map(), server: serverFacts(facts), queries: 1 };
  if (!databases.includes(MYSQL_DATABASE)) return snapshot;
  const root = newLiveObject('database', MYSQL_DATABASE);
  snapshot.databases.set(MYSQL_DATABASE, root);
  const scope = schemaScope(schemas);
  if (scope.read === 'none') return snapshot;
  const catalog = mysqlCatalogQueries(schemas, snapshot.server['schemaComments'] === true);
  const schemaRows = await query(catalog.schemata.sql, catalog.schemata.values);
  const tableRows = await query(catalog.tables.sql, catalog.tables.values);
  const columnRows = await query(catalog.columns.sql, catalog.columns.values);
  snapshot.queries += 3;
  // Case-sensitive names (lower_case_table_names=0): `W` in YAML is not the database `w`.
  const exact = schemas && snapshot.server['lowerCaseTableNames'] === 0 ? new Set(schemas) : undefined;
  const keep = (row: unknown[]) => !exact || exact.has(text(row[0]));
  for (const [name, comment] of schemaRows.filter(keep)) {
    const schema = liveChild(root, 'schema', text(name));
    if (snapshot.server['schemaComments']) schema.description = rowComment(comment);
  }
  for (const [schemaName, name, type, comment] of tableRows.filter(keep)) {
    const table = liveChild(liveChild(root, 'schema', text(schemaName)), 'table', text(name));
    const isView = text(type) === 'VIEW';
    // MySQL reports the comment of a view as 'VIEW'; views cannot have comments.
    table.description = isView ? null : rowComment(comment);
    table.facts = { tableType: text(type) };
  }
  for (const [schemaName, tableName, name, comment] of columnRows.filter(keep)) {
    const table = root.children.get(text(schemaName))?.children.get(text(tableName));
    if (table) liveChild(table, 'column', text(name)).description = rowComment(comment);
  }
  return snapshot;
}
