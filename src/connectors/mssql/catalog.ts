/**
 * The bulk read of one SQL Server database (the one the connection is in): five constant queries
 * whatever the number of tables, joined here by id. Catalog views:
 * https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-databases-transact-sql ,
 * sys-schemas-transact-sql, sys-objects-transact-sql, sys-columns-transact-sql,
 * extended-properties-catalog-views-sys-extended-properties (class 0 database, 1 object or
 * column with minor_id = column_id, 3 schema). sys.objects.principal_id NULL means the object is
 * owned by its schema's owner. `value` is sql_variant and is converted to nvarchar on read.
 */
import type { JsonValue, LiveObject } from '../../core/model.js';
import { liveChild, newLiveObject } from '../../core/model.js';
import { MetaformError } from '../../core/errors.js';
import { DESCRIPTION_PROPERTY, mssqlCanonicalName } from './dialect.js';

export const MSSQL_CATALOG = {
  /** -> [name, collation_name, owner login] */
  database: `SELECT d.name, d.collation_name, SUSER_SNAME(d.owner_sid) AS owner FROM sys.databases d WHERE d.name = DB_NAME()`,
  /** -> [schema_id, name, owner]; the fixed-role schemas (16384+) and the system schemas left out */
  schemas: `SELECT s.schema_id, s.name, USER_NAME(s.principal_id) AS owner FROM sys.schemas s
    WHERE s.schema_id < 16384 AND s.name NOT IN (N'sys', N'INFORMATION_SCHEMA', N'guest')`,
  /** -> [object_id, schema_id, name, type, explicit owner or NULL] */
  objects: `SELECT o.object_id, o.schema_id, o.name, o.type, USER_NAME(o.principal_id) AS owner FROM sys.objects o
    WHERE o.type IN ('U', 'V') AND o.is_ms_shipped = 0`,
  /** -> [object_id, column_id, name] */
  columns: `SELECT c.object_id, c.column_id, c.name FROM sys.columns c JOIN sys.objects o ON o.object_id = c.object_id
    WHERE o.type IN ('U', 'V') AND o.is_ms_shipped = 0`,
  /** -> [class, major_id, minor_id, name, value as text] */
  properties: `SELECT ep.class, ep.major_id, ep.minor_id, ep.name, CONVERT(nvarchar(4000), ep.value) AS value
    FROM sys.extended_properties ep WHERE ep.class IN (0, 1, 3)`,
} as const;

/** Runs one catalog query, rows as arrays. */
export type RunQuery = (sql: string) => Promise<unknown[][]>;

export interface MssqlDatabaseRead {
  database: LiveObject;
  server: Record<string, JsonValue>;
  queries: number;
}

const text = (value: unknown): string => String(value);
const nullable = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/** Whether the collation compares case-insensitively (_CI in its name). */
export function isCaseInsensitiveCollation(collation: string): boolean {
  return /_CI(_|$)/i.test(collation);
}

/**
 * Reads one database. `schemas` restricts what is kept (compared by name as the collation does);
 * `tagPrefix` decides which extended properties are tags; every other property (other tools')
 * is left alone.
 */
export async function readMssqlDatabase(run: RunQuery, schemas: readonly string[] | undefined, tagPrefix: string | undefined): Promise<MssqlDatabaseRead> {
  const [databaseRow] = await run(MSSQL_CATALOG.database);
  const schemaRows = await run(MSSQL_CATALOG.schemas);
  const objectRows = await run(MSSQL_CATALOG.objects);
  const columnRows = await run(MSSQL_CATALOG.columns);
  const propertyRows = await run(MSSQL_CATALOG.properties);
  if (!databaseRow) throw new Error('the current database is not in sys.databases');
  const collation = text(databaseRow[1]);
  const database = newLiveObject('database', text(databaseRow[0]));
  database.owner = nullable(databaseRow[2]);
  database.description = null;
  const wanted = schemas ? new Set(schemas.map(mssqlCanonicalName)) : undefined;
  const schemaById = new Map<number, LiveObject>();
  for (const [id, name, owner] of schemaRows) {
    if (wanted && !wanted.has(mssqlCanonicalName(text(name)))) continue;
    const schema = liveChild(database, 'schema', text(name));
    schema.owner = nullable(owner);
    schema.description = null;
    schemaById.set(Number(id), schema);
  }
  const tableById = new Map<number, LiveObject>();
  for (const [id, schemaId, name, type, owner] of objectRows) {
    const schema = schemaById.get(Number(schemaId));
    if (!schema) continue;
    const table = liveChild(schema, 'table', text(name));
    table.owner = nullable(owner) ?? schema.owner ?? null;
    table.description = null;
    table.facts = { type: text(type).trim() };
    tableById.set(Number(id), table);
  }
  const columnsById = new Map<number, [number, string][]>();
  for (const [objectId, columnId, name] of columnRows) {
    const id = Number(objectId);
    if (!tableById.has(id)) continue;
    let list = columnsById.get(id);
    if (!list) columnsById.set(id, (list = []));
    list.push([Number(columnId), text(name)]);
  }
  const columnByKey = new Map<string, LiveObject>();
  for (const [id, list] of columnsById) {
    const table = tableById.get(id) as LiveObject;
    list.sort((a, b) => a[0] - b[0]);
    for (const [columnId, name] of list) {
      const column = liveChild(table, 'column', name);
      column.description = null;
      columnByKey.set(`${id}:${columnId}`, column);
    }
  }
  if (!isCaseInsensitiveCollation(collation)) refuseCaseCollisions(database, collation);
  for (const [cls, major, minor, name, value] of propertyRows) {
    const target =
      Number(cls) === 0 ? database : Number(cls) === 3 ? schemaById.get(Number(major)) : Number(minor) === 0 ? tableById.get(Number(major)) : columnByKey.get(`${Number(major)}:${Number(minor)}`);
    if (!target) continue;
    const property = text(name);
    if (property === DESCRIPTION_PROPERTY || (isCaseInsensitiveCollation(collation) && property.toLowerCase() === DESCRIPTION_PROPERTY.toLowerCase())) {
      target.description = nullable(value);
      target.facts = { ...target.facts, hasDescription: true };
    } else if (tagPrefix !== undefined && property.startsWith(tagPrefix)) {
      (target.tags ??= {})[property.slice(tagPrefix.length)] = nullable(value) ?? '';
    }
  }
  if (tagPrefix !== undefined) for (const object of walk(database)) object.tags ??= {};
  return { database, server: { collation }, queries: 5 };
}

function* walk(object: LiveObject): Generator<LiveObject> {
  yield object;
  for (const child of object.children.values()) yield* walk(child);
}

/**
 * metaform compares SQL Server names case-insensitively, as the default collations do. In a
 * case-sensitive database two objects whose names differ only in case cannot be told apart so.
 */
function refuseCaseCollisions(database: LiveObject, collation: string): void {
  for (const object of walk(database)) {
    const seen = new Map<string, string>();
    for (const child of object.children.values()) {
      const folded = mssqlCanonicalName(child.name);
      const other = seen.get(folded);
      if (other !== undefined)
        throw new MetaformError(
          `database ${database.name} uses the case-sensitive collation ${collation} and holds both ${other} and ${child.name} under ${object.name}; metaform compares SQL Server names case-insensitively`,
          undefined,
          'rename one of them, or leave this database out of the service (databases:)',
        );
      seen.set(folded, child.name);
    }
  }
}
