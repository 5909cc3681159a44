import { formatAddress, type Change, type JsonValue, type RenderResult } from '../../core/model.js';
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
 * Two-level engine: metaform's path is ['default', <ClickHouse database>, table, column].
 * Column comments of one table go in one ALTER TABLE (one mutation of the table's metadata
 * instead of one per column).
 */
export function renderClickhouse(
  changes: readonly Change[],
  server: Record<string, JsonValue>,
  cluster: string | undefined,
  engineOf: (tablePath: readonly string[]) => string | undefined = () => undefined,
): RenderResult {
  const result: RenderResult = { operations: [], skipped: [] };
  const onCluster = cluster ? ` ON CLUSTER ${clickhouseDialect.quoteIdentifier(cluster)}` : '';
  const columnChanges: Change[] = [];
  const push = (id: string, change: Change, changeIds: string[], statement: string) =>
    result.operations.push({ id, service: change.service, database: change.path[0] ?? '', changeIds, statements: [statement] });

  for (const change of changes) {
    const [, database = '', table, column] = change.path;
    if (change.property !== 'description') {
      result.skipped.push({ changeId: change.id, reason: `ClickHouse has no ${change.property}s` });
    } else if (change.level === 'schema') {
      if (!versionAtLeast(server['version'], DATABASE_COMMENT_SINCE))
        result.skipped.push({
          changeId: change.id,
          reason: `ClickHouse ${String(server['version'] ?? '(unknown version)')} cannot change a database comment (ALTER DATABASE ... MODIFY COMMENT needs 25.4 or later)`,
        });
      else push(change.id, change, [change.id], `ALTER DATABASE ${clickhouseDialect.quoteIdentifier(database)}${onCluster} MODIFY COMMENT ${comment(change.after)}`);
    } else if (change.level === 'table' && table !== undefined) {
      push(change.id, change, [change.id], `ALTER TABLE ${clickhouseDialect.qualifiedName([database, table])}${onCluster} MODIFY COMMENT ${comment(change.after)}`);
    } else if (change.level === 'column' && engineOf(change.path.slice(0, 3)) === 'MaterializedView') {
      // Accepted and ignored by the server: the plan would never converge.
      result.skipped.push({ changeId: change.id, reason: 'ClickHouse keeps no column comments on a materialized view (COMMENT COLUMN is accepted and ignored); describe the columns of its target table' });
    } else if (change.level === 'column' && table !== undefined && column !== undefined) {
      columnChanges.push(change);
    } else {
      result.skipped.push({ changeId: change.id, reason: `ClickHouse has no ${change.level} descriptions` });
    }
  }
  for (const group of groupBy(columnChanges, (change) => JSON.stringify(change.path.slice(0, 3))).values()) {
    const [first] = group;
    if (!first) continue;
    const [, database = '', table = ''] = first.path;
    const clauses = group.map((change) => `COMMENT COLUMN ${clickhouseDialect.quoteIdentifier(change.path[3] ?? '')} ${comment(change.after)}`);
    push(
      `${formatAddress(first.service, first.path.slice(0, 3))}#columns`,
      first,
      group.map((change) => change.id),
      `ALTER TABLE ${clickhouseDialect.qualifiedName([database, table])}${onCluster} ${clauses.join(', ')}`,
    );
  }
  return result;
}
