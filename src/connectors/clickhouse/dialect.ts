import { findLive, formatAddress, type CatalogSnapshot, type Change, type JsonValue, type RenderResult } from '../../core/model.js';
import { groupBy } from '../../core/group.js';
import type { Dialect } from '../types.js';

/**
 * ClickHouse reads backslash escapes inside both quoted identifiers and string literals, so
 * a backslash is doubled and the quote escaped with a backslash; NUL is written as \0.
 */
function escape(text: string, quote: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll(quote, `\\${quote}`).replaceAll('\0', '\\0');
}

export const clickhouseDialect: Dialect = {
  quoteIdentifier: (name) => `\`${escape(name, '`')}\``,
  quoteLiteral: (value) => (value === null ? 'NULL' : `'${escape(value, "'")}'`),
  qualifiedName: (path) => path.map((part) => clickhouseDialect.quoteIdentifier(part)).join('.'),
};

/** ClickHouse stores "no comment" as ''; removing a comment writes ''. */
const comment = (value: string | null) => clickhouseDialect.quoteLiteral(value ?? '');

/** ClickHouse's own default, used when system.settings does not say (it always does on a real server). */
export const DEFAULT_MAX_QUERY_SIZE = 262144;

/** `ALTER DATABASE ... MODIFY COMMENT` exists from ClickHouse 25.4 on. */
export const DATABASE_COMMENT_SINCE = [25, 4] as const;

export function versionAtLeast(version: JsonValue | undefined, minimum: readonly number[]): boolean {
  const parts = String(version ?? '').split('.').map((part) => Number.parseInt(part, 10));
  for (let i = 0; i < minimum.length; i++) {
    const have = parts[i] ?? 0;
    const want = minimum[i] ?? 0;
    if (Number.isNaN(have)) return false;
    if (have !== want) return have > want;
  }
  return true;
}

/**
 * Database engines that keep a comment and let ALTER DATABASE change it (Atomic and Memory checked
 * on ClickHouse 26.7; the others keep their metadata as Atomic does). Engines over outside data
 * (Filesystem, S3, MySQL, PostgreSQL, SQLite, data lake catalogs...) answer NOT_IMPLEMENTED (48).
 */
const COMMENTABLE_DATABASE_ENGINES = new Set(['Atomic', 'Ordinary', 'Replicated', 'Memory', 'Lazy', 'Shared']);

/** Bytes the server's metadata of a table may differ from its create_table_query (ATTACH ... UUID '...'). */
const METADATA_MARGIN = 128;

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * The tables whose metadata may come near max_query_size once these column comments apply, by a
 * rough count from the snapshot (names, comments, a allowance per column for its type): for these
 * the session reads the exact size, which rendering then keeps under the limit.
 */
export function tablesNearQuerySizeLimit(changes: readonly Change[], snapshot: CatalogSnapshot): string[][] {
  const maxQuerySize = typeof snapshot.server['maxQuerySize'] === 'number' ? snapshot.server['maxQuerySize'] : DEFAULT_MAX_QUERY_SIZE;
  const growth = new Map<string, { path: string[]; bytes: number }>();
  for (const change of changes) {
    if (change.level !== 'column' || change.property !== 'description') continue;
    const key = JSON.stringify(change.path.slice(0, 3));
    const entry = growth.get(key) ?? { path: change.path.slice(0, 3), bytes: 0 };
    entry.bytes += bytes(change.after ?? '') - bytes(change.before ?? '');
    growth.set(key, entry);
  }
  const near: string[][] = [];
  for (const { path, bytes: added } of growth.values()) {
    const table = findLive(snapshot, path);
    let estimate = added + bytes(table?.description ?? '');
    for (const column of table?.children.values() ?? []) estimate += bytes(column.name) + bytes(column.description ?? '') + 64;
    if (estimate > maxQuerySize / 2) near.push(path);
  }
  return near;
}

/** What rendering reads of the live objects: an object's facts by path. */
export type FactsOf = (path: readonly string[]) => Record<string, JsonValue> | undefined;

/**
 * Two-level engine: metaform's path is ['default', <ClickHouse database>, table, column].
 * Column comments of one table go in one ALTER TABLE (one mutation of the table's metadata
 * instead of one per column), split into several ALTERs of that table, in one operation, where
 * one would exceed the server's max_query_size.
 */
export function renderClickhouse(
  changes: readonly Change[],
  server: Record<string, JsonValue>,
  cluster: string | undefined,
  factsOf: FactsOf = () => undefined,
): RenderResult {
  const result: RenderResult = { operations: [], skipped: [] };
  const maxQuerySize = typeof server['maxQuerySize'] === 'number' ? server['maxQuerySize'] : DEFAULT_MAX_QUERY_SIZE;
  const onCluster = cluster ? ` ON CLUSTER ${clickhouseDialect.quoteIdentifier(cluster)}` : '';
  const columnChanges: Change[] = [];
  const skip = (change: Change, reason: string) => result.skipped.push({ changeId: change.id, reason });
  const push = (id: string, change: Change, changeIds: string[], statements: string[]) =>
    result.operations.push({ id, service: change.service, database: change.path[0] ?? '', changeIds, statements });
  const tooLong = (change: Change, statement: string) =>
    `the comment is ${bytes(change.after ?? '')} bytes and its statement ${bytes(statement)} bytes, above the server's max_query_size (${maxQuerySize} bytes): ` +
    'ClickHouse would refuse it; shorten it, or raise max_query_size for the user metaform connects as';
  const single = (change: Change, statement: string) => {
    if (bytes(statement) > maxQuerySize) skip(change, tooLong(change, statement));
    else push(change.id, change, [change.id], [statement]);
  };

  for (const change of changes) {
    const [, database = '', table, column] = change.path;
    const engine = table === undefined ? undefined : factsOf(change.path.slice(0, 3))?.['engine'];
    if (change.property !== 'description') {
      skip(change, `ClickHouse has no ${change.property}s`);
    } else if (change.level === 'schema') {
      const databaseEngine = factsOf(change.path.slice(0, 2))?.['engine'];
      if (!versionAtLeast(server['version'], DATABASE_COMMENT_SINCE))
        skip(change, `ClickHouse ${String(server['version'] ?? '(unknown version)')} cannot change a database comment (ALTER DATABASE ... MODIFY COMMENT needs 25.4 or later)`);
      else if (typeof databaseEngine === 'string' && !COMMENTABLE_DATABASE_ENGINES.has(databaseEngine))
        skip(
          change,
          `a ClickHouse database with engine ${databaseEngine} cannot change its comment (ALTER DATABASE ... MODIFY COMMENT is NOT_IMPLEMENTED there, code 48); ` +
            `only ${[...COMMENTABLE_DATABASE_ENGINES].join(', ')} databases can`,
        );
      else single(change, `ALTER DATABASE ${clickhouseDialect.quoteIdentifier(database)}${onCluster} MODIFY COMMENT ${comment(change.after)}`);
    } else if (change.level === 'table' && table !== undefined) {
      single(change, `ALTER TABLE ${clickhouseDialect.qualifiedName([database, table])}${onCluster} MODIFY COMMENT ${comment(change.after)}`);
    } else if (change.level === 'column' && engine === 'MaterializedView') {
      // Accepted and ignored by the server: the plan would never converge.
      skip(change, 'ClickHouse keeps no column comments on a materialized view (COMMENT COLUMN is accepted and ignored); describe the columns of its target table');
    } else if (change.level === 'column' && engine === 'Dictionary') {
      skip(change, 'ClickHouse dictionaries have no column comments (COMMENT COLUMN is NOT_IMPLEMENTED for storage Dictionary, code 48); describe the columns of its source table');
    } else if (change.level === 'column' && table !== undefined && column !== undefined) {
      columnChanges.push(change);
    } else {
      skip(change, `ClickHouse has no ${change.level} descriptions`);
    }
  }
  for (const group of groupBy(columnChanges, (change) => JSON.stringify(change.path.slice(0, 3))).values()) {
    const [first] = group;
    if (!first) continue;
    const tablePath = first.path.slice(0, 3);
    const [, database = '', table = ''] = tablePath;
    const prefix = `ALTER TABLE ${clickhouseDialect.qualifiedName([database, table])}${onCluster} `;
    const metadataBytes = factsOf(tablePath)?.['metadataBytes'];
    let projected = typeof metadataBytes === 'number' && metadataBytes > 0 ? metadataBytes + METADATA_MARGIN : undefined;
    const sized = group.map((change) => {
      const clause = `COMMENT COLUMN ${clickhouseDialect.quoteIdentifier(change.path[3] ?? '')} ${comment(change.after)}`;
      const growth = (change.after ? bytes(comment(change.after)) + 9 : 0) - (change.before ? bytes(comment(change.before)) + 9 : 0);
      return { change, clause, size: bytes(clause), growth };
    });
    // Comments that shrink the metadata first, so that the ones that grow it have room.
    if (projected !== undefined) sized.sort((a, b) => a.growth - b.growth);
    const statements: string[] = [];
    const applied: string[] = [];
    let clauses: string[] = [];
    let size = 0;
    const flush = () => {
      if (clauses.length > 0) statements.push(prefix + clauses.join(', '));
      clauses = [];
      size = 0;
    };
    for (const { change, clause, size: clauseSize, growth } of sized) {
      if (bytes(prefix) + clauseSize > maxQuerySize) {
        skip(change, tooLong(change, prefix + clause));
        continue;
      }
      if (projected !== undefined && growth > 0 && projected + growth > maxQuerySize) {
        skip(
          change,
          `with this comment the table's metadata would be about ${projected + growth} bytes, above the server's max_query_size (${maxQuerySize} bytes), ` +
            'which ClickHouse refuses so that the table stays loadable; shorten the comments of this table, or raise max_query_size',
        );
        continue;
      }
      if (projected !== undefined) projected += growth;
      if (clauses.length > 0 && bytes(prefix) + size + 2 + clauseSize > maxQuerySize) flush();
      size += (clauses.length > 0 ? 2 : 0) + clauseSize;
      clauses.push(clause);
      applied.push(change.id);
    }
    flush();
    if (statements.length > 0) push(`${formatAddress(first.service, tablePath)}#columns`, first, applied, statements);
  }
  return result;
}
