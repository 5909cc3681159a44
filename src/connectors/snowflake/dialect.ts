import { findLive, type CatalogSnapshot, type Change, type JsonValue, type RenderResult } from '../../core/model.js';
import { MetaformError } from '../../core/errors.js';
import { groupBy } from '../../core/group.js';
import { renderEachChange, type RenderedChange } from '../shared/render.js';
import type { Dialect, ServiceConfig } from '../types.js';
import { resolveTagKey, storedName, tagSchemaOf, type TagObjectName } from './names.js';

/** A stored name, quoted: exactly that name whatever its case. */
export function quoteStoredIdentifier(stored: string): string {
  return `"${stored.replaceAll('"', '""')}"`;
}

/** An identifier from its spelling (see names.ts): always quoted, so the stored name is exact. */
export function quoteSnowflakeIdentifier(spelling: string): string {
  return quoteStoredIdentifier(storedName(spelling));
}

/**
 * A single-quoted constant: backslash is an escape character in Snowflake strings, so it is
 * doubled; a quote is doubled; NUL is written \x00 (a bare \0 followed by digits would read as octal).
 */
export function quoteSnowflakeLiteral(value: string | null): string {
  if (value === null) return 'NULL';
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''").replaceAll('\0', '\\x00')}'`;
}

export const snowflakeDialect: Dialect = {
  quoteIdentifier: quoteSnowflakeIdentifier,
  quoteLiteral: quoteSnowflakeLiteral,
  qualifiedName: (path) => path.map(quoteSnowflakeIdentifier).join('.'),
};

/** The dialect, with tag keys resolved in the service's tag schema (read into the server facts). */
export function snowflakeDialectFor(server: Record<string, JsonValue>): Dialect {
  const tagSchema = tagSchemaOf(server);
  return {
    ...snowflakeDialect,
    quoteTagKey: (key) => {
      const tag = resolveTagKey(key, tagSchema);
      if ('error' in tag) throw new MetaformError(tag.error, undefined, 'set options.tagSchema on the service, or write the key as DATABASE.SCHEMA.TAG');
      return tagObjectSql(tag);
    },
  };
}

/** The `property` part of the id of a change that creates a missing tag object (options.createTags). */
export const TAG_OBJECT_PROPERTY = 'tag-object';

/** The change prepare() adds to create a missing tag object: a schema-level tag change of its own origin. */
export function isTagObjectChange(change: Change): boolean {
  return change.origin === 'prepare' && change.property === 'tag' && change.level === 'schema';
}

/** The keyword a table's kind takes in COMMENT ON, ALTER and GRANT OWNERSHIP. */
export function tableKeyword(tableType: JsonValue | undefined): string {
  switch (tableType) {
    case 'VIEW':
      return 'VIEW';
    case 'MATERIALIZED VIEW':
      return 'MATERIALIZED VIEW';
    case 'EXTERNAL TABLE':
      return 'EXTERNAL TABLE';
    case 'DYNAMIC TABLE':
      return 'DYNAMIC TABLE';
    case 'ICEBERG TABLE':
      return 'ICEBERG TABLE';
    default:
      return 'TABLE';
  }
}

export function tagObjectSql(tag: TagObjectName): string {
  return tag.map(quoteStoredIdentifier).join('.');
}

/**
 * Pure: one operation per description or owner change, and per object one operation setting its
 * tags and one unsetting them (SET TAG and UNSET TAG take several tags at once); each statement
 * Snowflake commits on its own. Removal uses UNSET COMMENT / UNSET TAG; owners are roles, given
 * with GRANT OWNERSHIP ... COPY CURRENT GRANTS so that the object's other grants survive.
 */
export function renderSnowflake(changes: readonly Change[], snapshot: CatalogSnapshot, service: ServiceConfig): RenderResult {
  const tagSchema = tagSchemaOf(service.options);
  const created = new Set((snapshot.server['createdTags'] as string[] | undefined) ?? []);
  const tagChanges: Change[] = [];
  const others: Change[] = [];
  for (const change of changes) (change.property === 'tag' && !isTagObjectChange(change) ? tagChanges : others).push(change);
  const result = renderEachChange(others, (change) => renderChange(change, snapshot));
  for (const group of groupBy(tagChanges, (change) => `${JSON.stringify(change.path)}${change.after === null ? ' unset' : ' set'}`).values()) {
    const [first] = group;
    if (!first) continue;
    const clauses: string[] = [];
    const creates: string[] = [];
    const covered: Change[] = [];
    for (const change of group) {
      const tag = resolveTagKey(change.key ?? '', tagSchema);
      if ('error' in tag) {
        result.skipped.push({ changeId: change.id, reason: tag.error });
        continue;
      }
      const engineOwned = engineOwnedTag(change, snapshot, service);
      if (engineOwned !== undefined) {
        result.skipped.push({ changeId: change.id, reason: engineOwned });
        continue;
      }
      const tagName = tagObjectSql(tag);
      clauses.push(change.after === null ? tagName : `${tagName} = ${quoteSnowflakeLiteral(change.after)}`);
      // The plan also creates this tag object; repeating the idempotent CREATE keeps this
      // operation correct whichever runs first.
      if (change.after !== null && created.has(tagName)) creates.push(`CREATE TAG IF NOT EXISTS ${tagName}`);
      covered.push(change);
    }
    if (covered.length === 0) continue;
    const { target, columnClause } = alterTarget(first, snapshot);
    const verb = first.after === null ? 'UNSET TAG' : 'SET TAG';
    result.operations.push({
      id: covered.length === 1 ? first.id : `${first.address}#tags:${first.after === null ? 'unset' : 'set'}`,
      service: first.service,
      database: first.path[0] ?? '',
      changeIds: covered.map((change) => change.id),
      statements: [...creates, `ALTER ${target}${columnClause} ${verb} ${clauses.join(', ')}`],
    });
  }
  return result;
}

/**
 * The reason a tag change is left alone: the live tag is the engine's (classification or
 * propagation, see catalog.ts), unless the service sets options.manageEngineTags.
 */
function engineOwnedTag(change: Change, snapshot: CatalogSnapshot, service: ServiceConfig): string | undefined {
  if (service.options['manageEngineTags'] === true) return undefined;
  const reasons = findLive(snapshot, change.path)?.facts?.['engineTags'] as Record<string, string> | undefined;
  const reason = reasons?.[change.key ?? ''];
  return reason === undefined ? undefined : `tag ${change.key ?? ''} is not managed by metaform: ${reason}; set options.manageEngineTags: true to manage it`;
}

/** The object an ALTER names (with the keyword of its kind), and the clause that reaches a column of it. */
function alterTarget(change: Change, snapshot: CatalogSnapshot): { target: string; columnClause: string; keyword: string; tableName: string } {
  const q = quoteSnowflakeIdentifier;
  const [database = '', schema = '', table = '', column = ''] = change.path;
  const tableType = change.path.length >= 3 ? findLive(snapshot, change.path.slice(0, 3))?.facts?.['tableType'] : undefined;
  const keyword = tableKeyword(tableType);
  const tableName = `${q(database)}.${q(schema)}.${q(table)}`;
  const target = change.level === 'database' ? `DATABASE ${q(database)}` : change.level === 'schema' ? `SCHEMA ${q(database)}.${q(schema)}` : `${keyword} ${tableName}`;
  return { target, columnClause: change.level === 'column' ? ` MODIFY COLUMN ${q(column)}` : '', keyword, tableName };
}

/**
 * An Iceberg table refuses COMMENT ON and ALTER TABLE (091367, dbt-labs/dbt-adapters#1015, #770);
 * ALTER ICEBERG TABLE sets and unsets its comment and its columns' (docs.snowflake.com/en/
 * sql-reference/sql/alter-iceberg-table).
 */
function icebergComment(tableName: string, column: string | undefined, text: string | null): string {
  const alter = `ALTER ICEBERG TABLE ${tableName}`;
  if (column === undefined) return text === null ? `${alter} UNSET COMMENT` : `${alter} SET COMMENT = ${quoteSnowflakeLiteral(text)}`;
  return text === null ? `${alter} ALTER COLUMN ${column} UNSET COMMENT` : `${alter} ALTER COLUMN ${column} COMMENT ${quoteSnowflakeLiteral(text)}`;
}

function renderChange(change: Change, snapshot: CatalogSnapshot): RenderedChange {
  const q = quoteSnowflakeIdentifier;
  const literal = quoteSnowflakeLiteral;
  const [database = '', schema = '', , column = ''] = change.path;
  if (isTagObjectChange(change)) return { statements: [`CREATE TAG IF NOT EXISTS ${q(database)}.${q(schema)}.${q(change.key ?? '')}`] };
  const { target, keyword, tableName } = alterTarget(change, snapshot);
  switch (change.property) {
    case 'description': {
      if (keyword === 'ICEBERG TABLE') return { statements: [icebergComment(tableName, change.level === 'column' ? q(column) : undefined, change.after)] };
      if (change.level === 'column') {
        if (change.after !== null) return { statements: [`COMMENT ON COLUMN ${tableName}.${q(column)} IS ${literal(change.after)}`] };
        // ALTER ... ALTER COLUMN ... UNSET COMMENT exists for tables and views; elsewhere an empty comment is none.
        if (keyword === 'TABLE' || keyword === 'VIEW') return { statements: [`ALTER ${keyword} ${tableName} ALTER COLUMN ${q(column)} UNSET COMMENT`] };
        return { statements: [`COMMENT ON COLUMN ${tableName}.${q(column)} IS ''`] };
      }
      // ALTER EXTERNAL TABLE has no SET or UNSET COMMENT (docs.snowflake.com/en/sql-reference/sql/alter-external-table): an empty comment is none.
      if (change.after === null && keyword === 'EXTERNAL TABLE' && change.level === 'table') return { statements: [`COMMENT ON ${target} IS ''`] };
      if (change.after === null) return { statements: [`ALTER ${target} UNSET COMMENT`] };
      return { statements: [`COMMENT ON ${target} IS ${literal(change.after)}`] };
    }
    case 'owner': {
      if (change.level === 'column') return { skip: 'Snowflake columns have no owner' };
      if (change.after === null) return { skip: 'Snowflake objects always have an owner role: ownership can be transferred, not removed' };
      return { statements: [`GRANT OWNERSHIP ON ${target} TO ROLE ${q(change.after)} COPY CURRENT GRANTS`] };
    }
    case 'tag':
      return { skip: 'tag changes are rendered per object' };
  }
}
