import type { CatalogSnapshot, JsonValue, LiveObject } from '../../core/model.js';
import { liveChild, newLiveObject } from '../../core/model.js';
import { Parameters, schemaCondition, schemaScope, SYSTEM_SCHEMAS, type SystemSchemas } from '../shared/schemas.js';
import { rowComment, rowNullable as nullableText, rowText as text } from '../shared/rows.js';

/** The part of pg.Client the reader needs (rows as arrays: 200,000 column rows cost less). */
export interface ArrayQueryable {
  query(config: { text: string; values?: unknown[]; rowMode: 'array' }): Promise<{ rows: unknown[][] }>;
}

/**
 * The catalog SQL of one PostgreSQL-family engine. Every query is bulk: one per kind of object.
 * `filter` is the condition on `n.nspname` that selects the schemas read (schemaCondition).
 */
export interface CatalogQueries {
  /** -> [current_database, version, standard_conforming_strings, owner, comment] */
  database: string;
  /** -> [schema, owner, comment] */
  schemas(filter: string): string;
  /** -> [schema, table, relkind, owner, comment, oid] */
  tables(filter: string): string;
  /** -> [table oid, attnum, column, comment], in any order (sorting 200,000 rows server-side doubles the read) */
  columns(filter: string): string;
  /** The schemas the engine keeps for itself. */
  system: SystemSchemas;
}

const TABLE_KINDS = `c.relkind IN ('r', 'p', 'v', 'm', 'f')`;

export const POSTGRES_CATALOG: CatalogQueries = {
  database: `SELECT d.datname, version(), current_setting('standard_conforming_strings'),
    pg_get_userbyid(d.datdba), shobj_description(d.oid, 'pg_database')
    FROM pg_database d WHERE d.datname = current_database()`,
  schemas: (filter) => `SELECT n.nspname, pg_get_userbyid(n.nspowner), d.description
    FROM pg_namespace n
    LEFT JOIN pg_description d ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass AND d.objsubid = 0
    WHERE ${filter}`,
  tables: (filter) => `SELECT n.nspname, c.relname, c.relkind::text, pg_get_userbyid(c.relowner), d.description, c.oid
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
    WHERE ${TABLE_KINDS} AND ${filter}`,
  columns: (filter) => `SELECT a.attrelid, a.attnum, a.attname, d.description
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_description d ON d.objoid = a.attrelid AND d.classoid = 'pg_class'::regclass AND d.objsubid = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped AND ${TABLE_KINDS} AND ${filter}`,
  system: SYSTEM_SCHEMAS.postgres,
};


export interface DatabaseRead {
  database: LiveObject;
  server: Record<string, JsonValue>;
  queries: number;
}

/** Reads one database (the one the client is connected to): four queries, one when no schema is named. */
export async function readPostgresDatabase(client: ArrayQueryable, queries: CatalogQueries, schemas: readonly string[] | undefined): Promise<DatabaseRead> {
  const scope = schemaScope(schemas);
  const parameters = new Parameters('dollar');
  const filter = scope.read === 'none' ? '' : schemaCondition('n.nspname', scope, queries.system, parameters.add);
  const run = (sql: string, values: unknown[] = []) => client.query({ text: sql, rowMode: 'array', values }).then((result) => result.rows);
  // One client runs one query at a time; they go in sequence.
  const [databaseRow] = await run(queries.database);
  const below = scope.read === 'none' ? undefined : { schemas: await run(queries.schemas(filter), parameters.values), tables: await run(queries.tables(filter), parameters.values), columns: await run(queries.columns(filter), parameters.values) };
  const schemaRows = below?.schemas ?? [];
  const tableRows = below?.tables ?? [];
  const columnRows = below?.columns ?? [];
  if (!databaseRow) throw new Error('the current database is not in pg_database');
  const database = newLiveObject('database', text(databaseRow[0]));
  database.owner = nullableText(databaseRow[3]);
  database.description = rowComment(databaseRow[4]);
  for (const [name, owner, comment] of schemaRows) {
    const schema = liveChild(database, 'schema', text(name));
    schema.owner = nullableText(owner);
    schema.description = rowComment(comment);
  }
  const tablesByOid = new Map<unknown, LiveObject>();
  for (const [schemaName, name, relkind, owner, comment, oid] of tableRows) {
    const table = liveChild(liveChild(database, 'schema', text(schemaName)), 'table', text(name));
    table.owner = nullableText(owner);
    table.description = rowComment(comment);
    table.facts = { relkind: text(relkind) };
    tablesByOid.set(oid, table);
  }
  // Rows come grouped by table and in attnum order in practice, but nothing guarantees it, and an
  // ORDER BY on the server doubles the read: note the tables whose rows are not, and sort those.
  const outOfOrder = new Set<LiveObject>();
  const lastAttnum = new Map<LiveObject, number>();
  let current: LiveObject | undefined;
  let currentAttnum = 0;
  for (const [oid, attnum, name, comment] of columnRows) {
    const table = tablesByOid.get(oid);
    if (!table) continue; // created between the two queries
    if (table !== current) {
      if (current) lastAttnum.set(current, currentAttnum);
      current = table;
      currentAttnum = lastAttnum.get(table) ?? 0;
    }
    const position = Number(attnum);
    if (position < currentAttnum) outOfOrder.add(table);
    currentAttnum = position;
    liveChild(table, 'column', text(name)).description = rowComment(comment);
  }
  if (outOfOrder.size > 0) sortColumns(outOfOrder, columnRows, tablesByOid);
  return {
    database,
    server: {
      version: text(databaseRow[1]),
      standardConformingStrings: databaseRow[2] !== 'off',
    },
    queries: below ? 4 : 1,
  };
}

/** Puts the columns of these tables in attnum order (import writes them so). */
function sortColumns(tables: ReadonlySet<LiveObject>, columnRows: unknown[][], tablesByOid: ReadonlyMap<unknown, LiveObject>): void {
  const positions = new Map<LiveObject, Map<string, number>>();
  for (const [oid, attnum, name] of columnRows) {
    const table = tablesByOid.get(oid);
    if (!table || !tables.has(table)) continue;
    let byName = positions.get(table);
    if (!byName) positions.set(table, (byName = new Map()));
    byName.set(text(name), Number(attnum));
  }
  for (const [table, byName] of positions)
    table.children = new Map([...table.children].sort(([a], [b]) => (byName.get(a) ?? 0) - (byName.get(b) ?? 0)));
}

export function emptySnapshot(service: string): CatalogSnapshot {
  return { service, databases: new Map(), server: {}, queries: 0 };
}
