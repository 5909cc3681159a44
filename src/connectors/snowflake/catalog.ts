/**
 * Snowflake's catalog, read in bulk: per database, four INFORMATION_SCHEMA queries
 * (the database, its schemas, tables and columns: comments and owners) and one
 * ACCOUNT_USAGE.TAG_REFERENCES query for the tags of all its objects. That view lags the account
 * (up to about two hours), so the plan confirms in real time, with the TAG_REFERENCES table
 * functions, every object whose tags it would change (`realtimeTagsSql`); the per-object functions
 * are too many queries to read a whole catalog with.
 */
import { MetaformError } from '../../core/errors.js';
import { liveChild, newLiveObject, type LiveObject } from '../../core/model.js';
import { quoteSnowflakeLiteral as literal, quoteStoredIdentifier as q } from './dialect.js';
import { schemaCondition, schemaScope, SYSTEM_SCHEMAS } from '../shared/schemas.js';
import { spellName, tagKeyFor, type TagObjectName } from './names.js';
import { rowComment as comment, rowNullable as nullableText, rowText as text } from '../shared/rows.js';

export type RunQuery = (sql: string) => Promise<unknown[][]>;


/** Stored names throughout: `database` is how Snowflake stores it, quoted here exactly. */
export function catalogQueries(database: string, schemas: readonly string[] | undefined) {
  const db = q(database);
  const scope = schemaScope(schemas);
  // Nothing below the database is read when no schema is named (readSnowflakeDatabase runs none of these).
  const schemaFilter = (column: string) => (scope.read === 'none' ? 'FALSE' : schemaCondition(column, scope, SYSTEM_SCHEMAS.snowflake, (name) => literal(name)));
  return {
    database: `SELECT DATABASE_NAME, DATABASE_OWNER, COMMENT FROM ${db}.INFORMATION_SCHEMA.DATABASES WHERE DATABASE_NAME = ${literal(database)}`,
    schemas: `SELECT SCHEMA_NAME, SCHEMA_OWNER, COMMENT FROM ${db}.INFORMATION_SCHEMA.SCHEMATA WHERE ${schemaFilter('SCHEMA_NAME')}`,
    tables: `SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, IS_DYNAMIC, TABLE_OWNER, COMMENT, IS_ICEBERG FROM ${db}.INFORMATION_SCHEMA.TABLES WHERE ${schemaFilter('TABLE_SCHEMA')}`,
    columns: `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COMMENT FROM ${db}.INFORMATION_SCHEMA.COLUMNS WHERE ${schemaFilter('TABLE_SCHEMA')} ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
    // Direct assignments only (no inheritance), as metaform manages them. A database's own row
    // may leave OBJECT_DATABASE empty, hence the second condition.
    tags: `SELECT TAG_DATABASE, TAG_SCHEMA, TAG_NAME, TAG_VALUE, DOMAIN, OBJECT_DATABASE, OBJECT_SCHEMA, OBJECT_NAME, COLUMN_NAME, APPLY_METHOD FROM SNOWFLAKE.ACCOUNT_USAGE.TAG_REFERENCES WHERE OBJECT_DELETED IS NULL AND (OBJECT_DATABASE = ${literal(database)} OR (DOMAIN = 'DATABASE' AND OBJECT_NAME = ${literal(database)}))`,
  };
}

/**
 * Snowflake's answer to an INFORMATION_SCHEMA query over too much of a large account: "Information
 * schema query returned too much data" (dbt-labs/dbt-core#1877, #2260).
 */
export function isTooMuchData(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '090030';
}

/**
 * A database-wide query, or when Snowflake refuses it as too much data, the same query once per
 * schema (`perSchema` adds the schema's condition), rows concatenated in schema order.
 */
async function readWholeOrPerSchema(run: RunQuery, whole: string, perSchema: (schema: string) => string, schemas: () => string[]): Promise<{ rows: unknown[][]; queries: number }> {
  try {
    return { rows: await run(whole), queries: 1 };
  } catch (error) {
    if (!isTooMuchData(error)) throw error;
  }
  const rows: unknown[][] = [];
  const names = schemas();
  for (const schema of names) for (const row of await run(perSchema(schema))) rows.push(row);
  return { rows, queries: 1 + names.length };
}

/** Snowflake's answer when a database is missing (or invisible to the role). */
export function isMissingObject(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '002003';
}

export interface TagReading {
  tagSchema: [string, string] | undefined;
  service: string;
}

/**
 * Why a tag assignment is the engine's, not the user's, or undefined when it is the user's: the
 * system tags in SNOWFLAKE.CORE that classification sets (docs.snowflake.com/en/user-guide/
 * classify-intro), and any assignment whose APPLY_METHOD (BCR 1777, bundle 2024_08) says
 * classification or propagation made it (docs.snowflake.com/en/user-guide/object-tagging/
 * propagation). Removing them would delete governance data that metaform did not write.
 */
export function engineOwnedTagReason(tag: TagObjectName, applyMethod: unknown): string | undefined {
  if (tag[0] === 'SNOWFLAKE' && tag[1] === 'CORE') return 'a Snowflake system tag (SNOWFLAKE.CORE), set by data classification';
  if (applyMethod === 'CLASSIFIED') return 'applied by data classification (APPLY_METHOD CLASSIFIED)';
  if (applyMethod === 'PROPAGATED') return 'applied by tag propagation (APPLY_METHOD PROPAGATED)';
  return undefined;
}

/** Facts key: tag key -> why the engine owns that tag on this object (see engineOwnedTagReason). */
export const ENGINE_TAGS = 'engineTags';

/** Assigns a tag read from the catalog; two tag objects of one name on one object are ambiguous. */
export function assignTag(object: LiveObject, tag: TagObjectName, value: string, reading: TagReading, address: () => string, applyMethod?: unknown): void {
  object.tags ??= {};
  const key = tagKeyFor(tag, reading.tagSchema);
  const engineOwned = engineOwnedTagReason(tag, applyMethod);
  if (engineOwned !== undefined)
    object.facts = { ...object.facts, [ENGINE_TAGS]: { ...((object.facts?.[ENGINE_TAGS] as Record<string, string> | undefined) ?? {}), [key]: engineOwned } };
  const names = (object.facts?.['tagObjects'] as Record<string, string> | undefined) ?? {};
  const full = tag.map(spellName).join('.');
  const other = names[spellName(tag[2])];
  if (other !== undefined && other !== full)
    throw new MetaformError(
      `ambiguous tag ${spellName(tag[2])} on ${address()}: tag objects ${other} and ${full} are both set on it`,
      undefined,
      'unset one of them in Snowflake, or name the one metaform manages by its full name (DATABASE.SCHEMA.TAG)',
    );
  object.facts = { ...object.facts, tagObjects: { ...names, [spellName(tag[2])]: full } };
  object.tags[key] = value;
}

export async function readSnowflakeDatabase(
  run: RunQuery,
  database: string,
  schemas: readonly string[] | undefined,
  reading: TagReading,
): Promise<{ database: LiveObject | undefined; queries: number }> {
  const sql = catalogQueries(database, schemas);
  let databaseRows: unknown[][];
  try {
    databaseRows = await run(sql.database);
  } catch (error) {
    if (isMissingObject(error)) return { database: undefined, queries: 1 };
    // 000606: INFORMATION_SCHEMA and ACCOUNT_USAGE SELECTs need a running warehouse (SHOW and DDL do not).
    if ((error as { code?: unknown } | null)?.code === '000606')
      throw new MetaformError(
        `service ${reading.service}: the session has no warehouse, which Snowflake needs to read the catalog (${(error as Error).message.replaceAll('\n', ' ').trim()})`,
        undefined,
        "set connection.warehouse to a warehouse the role may use (GRANT USAGE ON WAREHOUSE <name> TO ROLE <the service's role>), or give the user a DEFAULT_WAREHOUSE",
      );
    throw error;
  }
  const [databaseRow] = databaseRows;
  if (!databaseRow) return { database: undefined, queries: 1 };
  const live = newLiveObject('database', spellName(text(databaseRow[0])));
  live.owner = nullableText(databaseRow[1]) === null ? null : spellName(text(databaseRow[1]));
  live.description = comment(databaseRow[2]);
  const below = schemaScope(schemas).read !== 'none';
  const schemaRows = below ? await run(sql.schemas) : [];
  const schemaNames = () => schemaRows.map((row) => text(row[0]));
  // Per schema: the same queries, restricted to that one schema (the schemas read are the ones listed).
  const tables = below ? await readWholeOrPerSchema(run, sql.tables, (schema) => catalogQueries(database, [schema]).tables, schemaNames) : { rows: [], queries: 0 };
  const columns = below ? await readWholeOrPerSchema(run, sql.columns, (schema) => catalogQueries(database, [schema]).columns, schemaNames) : { rows: [], queries: 0 };
  const [tableRows, columnRows] = [tables.rows, columns.rows];
  const tagRows = await run(sql.tags).catch((error: unknown) => {
    if (!isMissingObject(error)) throw error;
    throw new MetaformError(
      `service ${reading.service}: the role cannot read SNOWFLAKE.ACCOUNT_USAGE.TAG_REFERENCES, where metaform reads tags in bulk (${(error as Error).message.replaceAll('\n', ' ')})`,
      undefined,
      'GRANT IMPORTED PRIVILEGES ON DATABASE SNOWFLAKE TO ROLE <the service\'s role> (or a database role with USAGE_VIEWER)',
    );
  });

  const schemaOf = (name: unknown) => liveChild(live, 'schema', spellName(text(name)));
  for (const [name, owner, text_] of schemaRows) {
    const schema = schemaOf(name);
    schema.owner = nullableText(owner) === null ? null : spellName(text(owner));
    schema.description = comment(text_);
  }
  for (const [schemaName, name, type, dynamic, owner, text_, iceberg] of tableRows) {
    const table = liveChild(schemaOf(schemaName), 'table', spellName(text(name)));
    table.owner = nullableText(owner) === null ? null : spellName(text(owner));
    table.description = comment(text_);
    // An Iceberg table is a BASE TABLE that takes ALTER ICEBERG TABLE (error 091367 otherwise).
    table.facts = { tableType: dynamic === 'YES' ? 'DYNAMIC TABLE' : iceberg === 'YES' ? 'ICEBERG TABLE' : text(type) };
  }
  // Rows come ordered by schema and table: one lookup per table, not per column.
  let current: { key: string; table: LiveObject } | undefined;
  for (const [schemaName, tableName, name, text_] of columnRows) {
    const key = `${text(schemaName)}\u0000${text(tableName)}`;
    if (current?.key !== key) current = { key, table: liveChild(schemaOf(schemaName), 'table', spellName(text(tableName))) };
    liveChild(current.table, 'column', spellName(text(name))).description = comment(text_);
  }
  for (const [tagDatabase, tagSchema, tagName, value, domain, , objectSchema, objectName, columnName, applyMethod] of tagRows) {
    const tag: TagObjectName = [text(tagDatabase), text(tagSchema), text(tagName)];
    let object: LiveObject | undefined;
    if (domain === 'DATABASE') object = live;
    else if (domain === 'SCHEMA') object = live.children.get(spellName(text(objectSchema ?? objectName)));
    else if (domain === 'TABLE' || domain === 'COLUMN') {
      const table = live.children.get(spellName(text(objectSchema)))?.children.get(spellName(text(objectName)));
      object = domain === 'TABLE' ? table : table?.children.get(spellName(text(columnName)));
    }
    // Objects outside the schemas read, or dropped since the view was refreshed, are not managed here.
    if (!object) continue;
    const path = [live.name, ...(domain === 'DATABASE' ? [] : [spellName(text(domain === 'SCHEMA' ? (objectSchema ?? objectName) : objectSchema))]), ...(domain === 'TABLE' || domain === 'COLUMN' ? [spellName(text(objectName))] : []), ...(domain === 'COLUMN' ? [spellName(text(columnName))] : [])];
    assignTag(object, tag, text(value), reading, () => [reading.service, ...path].join('.'), applyMethod);
  }
  return { database: live, queries: (below ? 3 : 2) + tables.queries + columns.queries };
}

/** Objects whose tags are read in real time: [database, schema?, table?] stored names; columns come with their table. */
export type RealtimeTarget = { domain: 'DATABASE' | 'SCHEMA' | 'TABLE'; path: string[] };

/**
 * One query for many objects: a UNION ALL of the real-time TAG_REFERENCES functions (and
 * TAG_REFERENCES_ALL_COLUMNS for tables, whose columns come with them), each object's direct
 * assignments only (LEVEL equal to its domain: inherited tags are not the object's own).
 * -> [target index, TAG_DATABASE, TAG_SCHEMA, TAG_NAME, TAG_VALUE, COLUMN_NAME, APPLY_METHOD]
 */
export function realtimeTagsSql(targets: readonly RealtimeTarget[]): string {
  const parts: string[] = [];
  targets.forEach((target, index) => {
    const [database = ''] = target.path;
    const fn = (name: string) => `TABLE(${q(database)}.INFORMATION_SCHEMA.${name}`;
    const name = literal(target.path.map(q).join('.'));
    const select = (source: string, level: string) =>
      `SELECT ${index} AS TARGET, TAG_DATABASE, TAG_SCHEMA, TAG_NAME, TAG_VALUE, COLUMN_NAME, APPLY_METHOD FROM ${source} WHERE LEVEL = '${level}'`;
    if (target.domain === 'TABLE') {
      parts.push(select(`${fn('TAG_REFERENCES')}(${name}, 'TABLE'))`, 'TABLE'));
      parts.push(select(`${fn('TAG_REFERENCES_ALL_COLUMNS')}(${name}, 'TABLE'))`, 'COLUMN'));
    } else parts.push(select(`${fn('TAG_REFERENCES')}(${name}, '${target.domain}'))`, target.domain));
  });
  return parts.join(' UNION ALL ');
}
