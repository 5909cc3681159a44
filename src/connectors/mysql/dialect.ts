import { formatAddress, type Change, type JsonValue, type LiveObject, type RenderResult } from '../../core/model.js';
import { findLive } from '../../core/model.js';
import type { CatalogSnapshot } from '../../core/model.js';
import type { Dialect } from '../types.js';
import { columnDefinitions, restateWithComment } from './column-definition.js';

export function quoteMysqlIdentifier(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
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
  const result: RenderResult = { operations: [], skipped: [] };
  const skip = (change: Change, reason: string) => result.skipped.push({ changeId: change.id, reason });
  const byTable = new Map<string, Change[]>();

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
      const key = JSON.stringify([schema, table]);
      byTable.set(key, [...(byTable.get(key) ?? []), change]);
    } else skip(change, `MySQL has no ${change.level} descriptions`);
  }

  for (const group of byTable.values()) {
    const [first] = group;
    if (!first) continue;
    const tablePath = first.path.slice(0, 3);
    const table = findLive(snapshot, tablePath);
    const createTable = table?.facts?.['createTable'];
    if (typeof createTable !== 'string') {
      for (const change of group) skip(change, table?.facts?.['tableType'] === 'VIEW' ? 'MySQL and MariaDB view columns have no comments' : 'SHOW CREATE TABLE was not read for this table');
      continue;
    }
    const definitions = columnDefinitions(createTable);
    const clauses: string[] = [];
    const applied: Change[] = [];
    for (const change of group) {
      const column = change.path[3] ?? '';
      const definition = definitions.get(column);
      const restated = definition === undefined ? { refused: 'SHOW CREATE TABLE does not list it' } : restateWithComment(definition, change.after === null ? null : dialect.quoteLiteral(change.after));
      if ('refused' in restated) skip(change, `column not restated, to keep it intact: ${restated.refused}`);
      else {
        clauses.push(`MODIFY COLUMN ${restated.definition}`);
        applied.push(change);
      }
    }
    if (applied.length > 0)
      push(first, applied, `ALTER TABLE ${dialect.qualifiedName(tablePath.slice(1))} ${clauses.join(', ')}`, `${formatAddress(first.service, tablePath)}#columns`);
  }
  return result;

  function push(change: Change, covered: Change[], statement: string, id = change.id): void {
    result.operations.push({ id, service: change.service, database: change.path[0] ?? '', changeIds: covered.map((c) => c.id), statements: [statement] });
  }
}

function isView(snapshot: CatalogSnapshot, change: Change): boolean {
  const table: LiveObject | undefined = findLive(snapshot, change.path.slice(0, 3));
  return table?.facts?.['tableType'] === 'VIEW';
}
