import { findLive, type CatalogSnapshot, type Change, type JsonValue, type RenderResult } from '../../core/model.js';
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

export function snowflakeDialectFor(_server: Record<string, JsonValue>): Dialect {
  return snowflakeDialect;
}

/** Marks the change that creates a missing tag object (options.createTags). */
export const TAG_OBJECT_CHANGE = '#tag-object:';

export function isTagObjectChange(change: Change): boolean {
  return change.property === 'tag' && change.id.includes(TAG_OBJECT_CHANGE);
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
    default:
      return 'TABLE';
  }
}

export function tagObjectSql(tag: TagObjectName): string {
  return tag.map(quoteStoredIdentifier).join('.');
}

/**
 * Pure: one operation per change, each a statement Snowflake commits on its own. Removal uses
 * UNSET COMMENT / UNSET TAG; owners are roles, given with GRANT OWNERSHIP ... COPY CURRENT GRANTS
 * so that the object's other grants survive the transfer.
 */
export function renderSnowflake(changes: readonly Change[], snapshot: CatalogSnapshot, service: ServiceConfig): RenderResult {
  const tagSchema = tagSchemaOf(service.options);
  const created = new Set((snapshot.server['createdTags'] as string[] | undefined) ?? []);
  return renderEachChange(changes, (change) => renderChange(change, snapshot, tagSchema, created));
}

function renderChange(change: Change, snapshot: CatalogSnapshot, tagSchema: [string, string] | undefined, created: ReadonlySet<string>): RenderedChange {
  const q = quoteSnowflakeIdentifier;
  const literal = quoteSnowflakeLiteral;
  const [database = '', schema = '', table = '', column = ''] = change.path;
  if (isTagObjectChange(change)) {
    const name = change.key ?? '';
    return { statements: [`CREATE TAG IF NOT EXISTS ${q(database)}.${q(schema)}.${q(name)}`] };
  }
  const tableType = change.path.length >= 3 ? findLive(snapshot, change.path.slice(0, 3))?.facts?.['tableType'] : undefined;
  const keyword = tableKeyword(tableType);
  const tableName = `${q(database)}.${q(schema)}.${q(table)}`;
  // The object an ALTER names, and the clause that reaches a column of it.
  const target =
    change.level === 'database'
      ? `DATABASE ${q(database)}`
      : change.level === 'schema'
        ? `SCHEMA ${q(database)}.${q(schema)}`
        : `${keyword} ${tableName}`;
  const columnClause = change.level === 'column' ? ` MODIFY COLUMN ${q(column)}` : '';

  switch (change.property) {
    case 'description': {
      if (change.level === 'column') {
        if (change.after !== null) return { statements: [`COMMENT ON COLUMN ${tableName}.${q(column)} IS ${literal(change.after)}`] };
        // ALTER ... ALTER COLUMN ... UNSET COMMENT exists for tables and views; elsewhere an empty comment is none.
        if (keyword === 'TABLE' || keyword === 'VIEW') return { statements: [`ALTER ${keyword} ${tableName} ALTER COLUMN ${q(column)} UNSET COMMENT`] };
        return { statements: [`COMMENT ON COLUMN ${tableName}.${q(column)} IS ''`] };
      }
      if (change.after === null) return { statements: [`ALTER ${target} UNSET COMMENT`] };
      return { statements: [`COMMENT ON ${target} IS ${literal(change.after)}`] };
    }
    case 'owner': {
      if (change.level === 'column') return { skip: 'Snowflake columns have no owner' };
      if (change.after === null) return { skip: 'Snowflake objects always have an owner role: ownership can be transferred, not removed' };
      return { statements: [`GRANT OWNERSHIP ON ${target} TO ROLE ${q(change.after)} COPY CURRENT GRANTS`] };
    }
    case 'tag': {
      const tag = resolveTagKey(change.key ?? '', tagSchema);
      if ('error' in tag) return { skip: tag.error };
      const tagName = tagObjectSql(tag);
      if (change.after === null) return { statements: [`ALTER ${target}${columnClause} UNSET TAG ${tagName}`] };
      const set = `ALTER ${target}${columnClause} SET TAG ${tagName} = ${literal(change.after)}`;
      // The plan also creates this tag object; repeating the idempotent CREATE keeps this
      // operation correct whichever runs first.
      return { statements: created.has(tagName) ? [`CREATE TAG IF NOT EXISTS ${tagName}`, set] : [set] };
    }
  }
}
