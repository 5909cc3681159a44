import { findLive, formatAddress, type CatalogSnapshot, type Change, type JsonValue, type Level, type LiveObject, type RenderResult } from '../../core/model.js';
import { groupBy } from '../../core/group.js';
import type { Dialect } from '../types.js';
import { columnDefinitions, isStoredGenerated, restateWithComment, withJsonKeyword } from './column-definition.js';

export function quoteMysqlIdentifier(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

/**
 * MySQL and MariaDB compare column names without regard to case, on every platform: `col` in
 * YAML is the column `Col`. Table and database names follow the server's lower_case_table_names,
 * which is not known without a connection, so they are kept as written: that matches the Linux
 * default (0, case-sensitive, where `t` and `T` are two tables), and on a server that folds them
 * a name of the wrong case is reported missing at plan time, never applied to the wrong object.
 */
export function mysqlCanonicalName(name: string, level: Level): string {
  return level === 'column' ? name.toLowerCase() : name;
}

/**
 * With backslash escapes on (the session turns NO_BACKSLASH_ESCAPES off), a backslash is
 * doubled and NUL written as \0; a quote is doubled either way.
 */
export function mysqlDialect(server: Record<string, JsonValue>): Dialect {
  const backslashEscapes = server['noBackslashEscapes'] !== true;
  return {
    quoteIdentifier: quoteMysqlIdentifier,
    quoteLiteral: (value) => {
      if (value === null) return 'NULL';
      const quoted = value.replaceAll("'", "''");
      return `'${backslashEscapes ? quoted.replaceAll('\\', '\\\\').replaceAll('\0', '\\0') : quoted}'`;
    },
    qualifiedName: (path) => path.map(quoteMysqlIdentifier).join('.'),
  };
}

/** Longest comments the server accepts, in characters (a longer one is refused, never truncated). */
export const LIMITS = { schema: 1024, table: 2048, column: 1024 } as const;

/** Characters outside the Basic Multilingual Plane: utf8mb3 cannot store them. */
const FOUR_BYTE = /[\u{10000}-\u{10FFFF}]/u;

function refusal(change: Change, server: Record<string, JsonValue>): string | undefined {
  const text = change.after ?? '';
  const limit = LIMITS[change.level as keyof typeof LIMITS];
  if (limit !== undefined && [...text].length > limit)
    return `${[...text].length} characters; MySQL/MariaDB hold at most ${limit} in a ${change.level} comment`;
  // Measured on MariaDB 10.11: a table or database comment written 'a\0b' is stored as "a" and
  // NULs (a hex or CHAR(0) literal is not accepted there), so it would never converge. Column
  // comments keep NUL as written.
  if ((change.level === 'table' || change.level === 'schema') && text.includes('\0'))
    return `MySQL/MariaDB cut a ${change.level} comment at a NUL character (the rest is stored as NULs)`;
  if (server['commentCharset'] !== 'utf8mb4' && FOUR_BYTE.test(text))
    return `the server keeps comments in ${String(server['commentCharset'] ?? 'utf8mb3')}, which would turn characters such as emoji into "?"`;
  return undefined;
}

/**
 * Two-level engine: the path is ['default', <MySQL database>, table, column]. Column comments of
 * one table become one ALTER TABLE with a MODIFY COLUMN per column, each restating the column
 * exactly as SHOW CREATE TABLE printed it but for the comment.
 */
export function renderMysql(changes: readonly Change[], snapshot: CatalogSnapshot): RenderResult {
  const { server } = snapshot;
  const dialect = mysqlDialect(server);
  const instant = instantAlter(server);
  const result: RenderResult = { operations: [], skipped: [] };
  const skip = (change: Change, reason: string) => result.skipped.push({ changeId: change.id, reason });
  const columnChanges: Change[] = [];

  for (const change of changes) {
    const [, schema = '', table] = change.path;
    const refused = refusal(change, server);
    if (change.property !== 'description') skip(change, `MySQL has no ${change.property}s`);
    else if (refused) skip(change, refused);
    else if (change.level === 'schema') {
      if (server['schemaComments'] !== true) skip(change, `${String(server['version'] ?? 'this server')} has no schema comments (MariaDB 10.5 and later have them)`);
      else push(change, [change], `ALTER DATABASE ${quoteMysqlIdentifier(schema)} COMMENT = ${dialect.quoteLiteral(change.after ?? '')}`);
    } else if (change.level === 'table') {
      if (isView(snapshot, change)) skip(change, 'MySQL and MariaDB views have no comments');
      else push(change, [change], `ALTER TABLE ${dialect.qualifiedName([schema, table ?? ''])} COMMENT = ${dialect.quoteLiteral(change.after ?? '')}`);
    } else if (change.level === 'column') {
      columnChanges.push(change);
    } else skip(change, `MySQL has no ${change.level} descriptions`);
  }

  for (const group of groupBy(columnChanges, (change) => JSON.stringify(change.path.slice(0, 3))).values()) {
    const [first] = group;
    if (!first) continue;
    const tablePath = first.path.slice(0, 3);
    const table = findLive(snapshot, tablePath);
    const createTable = table?.facts?.['createTable'];
    if (typeof createTable !== 'string') {
      for (const change of group) skip(change, table?.facts?.['tableType'] === 'VIEW' ? 'MySQL and MariaDB view columns have no comments' : 'SHOW CREATE TABLE was not read for this table');
      continue;
    }
    if (table?.facts?.['tableType'] === 'SYSTEM VERSIONED') {
      for (const change of group)
        skip(change, 'system-versioned table: MariaDB refuses ALTER TABLE ... MODIFY COLUMN on it unless @@system_versioning_alter_history is KEEP, which metaform does not change for you');
      continue;
    }
    const definitions = columnDefinitions(createTable);
    const clauses: string[] = [];
    const applied: Change[] = [];
    for (const change of group) {
      const column = change.path[3] ?? '';
      const printed = definitions.get(column);
      const definition = printed !== undefined && instant ? withJsonKeyword(printed) : printed;
      const restated =
        definition === undefined
          ? { refused: 'SHOW CREATE TABLE does not list it' }
          : isStoredGenerated(definition)
            ? { refused: 'it is a STORED generated column, whose comment the server changes only by copying the whole table' }
            : restateWithComment(definition, change.after === null ? null : dialect.quoteLiteral(change.after));
      if ('refused' in restated) skip(change, `column not restated, to keep it intact: ${restated.refused}`);
      else {
        clauses.push(`MODIFY COLUMN ${restated.definition}`);
        applied.push(change);
      }
    }
    // ALGORITHM=INSTANT: should the restated definition differ from the column in any way that
    // needs more than a metadata change, MariaDB refuses the statement instead of rebuilding the table.
    if (instant) clauses.push('ALGORITHM=INSTANT');
    if (applied.length > 0)
      push(first, applied, `ALTER TABLE ${dialect.qualifiedName(tablePath.slice(1))} ${clauses.join(', ')}`, `${formatAddress(first.service, tablePath)}#columns`);
  }
  return result;

  function push(change: Change, covered: Change[], statement: string, id = change.id): void {
    result.operations.push({ id, service: change.service, database: change.path[0] ?? '', changeIds: covered.map((c) => c.id), statements: [statement] });
  }
}

/**
 * MariaDB 10.3+ (ALGORITHM=INSTANT exists there, and a comment-only MODIFY COLUMN passes it on
 * InnoDB, MyISAM, Aria and MEMORY tables). MySQL does not document INSTANT for comment changes,
 * so there the check of each definition against SHOW CREATE TABLE before the ALTER is the guard.
 */
export function instantAlter(server: Record<string, JsonValue>): boolean {
  const version = String(server['version'] ?? '');
  const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  return /mariadb/i.test(version) && (major > 10 || (major === 10 && minor >= 3));
}

function isView(snapshot: CatalogSnapshot, change: Change): boolean {
  const table: LiveObject | undefined = findLive(snapshot, change.path.slice(0, 3));
  return table?.facts?.['tableType'] === 'VIEW';
}
