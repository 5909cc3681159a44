import type { Change, JsonValue, LiveObject, RenderResult } from '../../core/model.js';
import { findLive, formatAddress } from '../../core/model.js';
import { groupBy } from '../../core/group.js';
import type { Dialect, ServiceConfig } from '../types.js';

/**
 * Databricks SQL quoting, by Spark's lexer: identifiers in backquotes with a doubled backquote as
 * the escape; string literals with backslash escapes. A quote is never doubled: Spark reads
 * 'a''b' as two adjacent literals (joined to `ab` in an expression, a syntax error in a COMMENT).
 */
export function quoteDatabricksIdentifier(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

export function quoteDatabricksLiteral(value: string | null): string {
  if (value === null) return 'NULL';
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/**
 * Tags the platform owns: governed tags in the `system.` namespace (e.g.
 * system.certification_status; docs.databricks.com/aws/en/admin/governed-tags/) and the `class.`
 * tags Data Classification applies (docs.databricks.com/aws/en/data-governance/unity-catalog/
 * data-classification). Pruning them would delete governance data metaform did not write, and
 * their keys hold a `.`, which a YAML tag key may not, so a user cannot keep them by listing them.
 */
export function engineOwnedTagReason(key: string): string | undefined {
  if (/^system\./i.test(key)) return 'a governed system tag (system.*), owned by Databricks';
  if (/^class\./i.test(key)) return 'a Data Classification tag (class.*), applied by Databricks';
  return undefined;
}

/** The Unity Catalog metastore's legacy neighbour: no catalog comment, owners or tags there. */
export const HIVE_METASTORE = 'hive_metastore';

/**
 * The dialect of one catalog's statements: qualified names are three-part, with the catalog taken
 * from the server facts the catalog was read with (templates' {object} included).
 */
export function databricksDialect(server: Record<string, JsonValue> = {}): Dialect {
  const catalog = typeof server['catalog'] === 'string' ? server['catalog'] : undefined;
  return {
    quoteIdentifier: quoteDatabricksIdentifier,
    quoteLiteral: quoteDatabricksLiteral,
    qualifiedName: (path) => (catalog === undefined ? path : [catalog, ...path]).map(quoteDatabricksIdentifier).join('.'),
  };
}

/** information_schema.tables.table_type -> the keyword ALTER takes for it. */
const RELATION_KEYWORD: Record<string, string> = {
  VIEW: 'VIEW',
  MATERIALIZED_VIEW: 'MATERIALIZED VIEW',
  STREAMING_TABLE: 'STREAMING TABLE',
};

export function relationKeyword(table: LiveObject | undefined): string {
  const type = table?.facts?.['tableType'];
  return (typeof type === 'string' && RELATION_KEYWORD[type]) || 'TABLE';
}

/** ALTER VIEW has no ALTER COLUMN clause: a view's columns take COMMENT ON COLUMN and SET TAG ON. */
const isView = (table: LiveObject | undefined) => relationKeyword(table) === 'VIEW';

/**
 * Pure: the statements for the changes of one catalog. Descriptions and owners are one operation
 * per change; the tag changes of one object are one operation: an `UNSET TAGS (...)` and a
 * `SET TAGS (...)`, both idempotent.
 */
export function renderDatabricks(changes: readonly Change[], snapshot: Parameters<typeof findLive>[0], _service: ServiceConfig, server: Record<string, JsonValue> = {}): RenderResult {
  const result: RenderResult = { operations: [], skipped: [] };
  const catalog = typeof server['catalog'] === 'string' ? server['catalog'] : (changes[0]?.path[0] ?? '');
  const unity = server['unity'] !== false && catalog.toLowerCase() !== HIVE_METASTORE;
  const dialect = databricksDialect({ ...server, catalog });
  const push = (id: string, first: Change, changeIds: string[], statement: string) =>
    result.operations.push({ id, service: first.service, database: first.path[0] ?? '', changeIds, statements: [statement] });
  const skip = (change: Change, reason: string) => result.skipped.push({ changeId: change.id, reason });
  const tableOf = (change: Change) => (change.path.length >= 3 ? findLive(snapshot, change.path.slice(0, 3)) : undefined);
  const objectName = (change: Change) => (change.level === 'database' ? quoteDatabricksIdentifier(catalog) : dialect.qualifiedName(change.path.slice(1, 3)));
  const alterTarget = (change: Change) =>
    change.level === 'database' ? 'CATALOG' : change.level === 'schema' ? 'SCHEMA' : relationKeyword(tableOf(change));
  const tagChanges: Change[] = [];
  /**
   * A view column's tag: SET TAG ON / UNSET TAG ON COLUMN (DBR 16.1+), whose key and value are
   * identifiers and which are not idempotent (SET fails on a key already there, UNSET on a
   * missing one), so an update unsets first, and an empty value is the key-only form.
   */
  const viewColumnTag = (change: Change) => {
    const column = dialect.qualifiedName(change.path.slice(1, 4));
    const key = quoteDatabricksIdentifier(change.key ?? '');
    const statements: string[] = [];
    if (change.before !== null) statements.push(`UNSET TAG ON COLUMN ${column} ${key}`);
    if (change.after !== null) statements.push(`SET TAG ON COLUMN ${column} ${key}${change.after === '' ? '' : ` = ${quoteDatabricksIdentifier(change.after)}`}`);
    result.operations.push({ id: change.id, service: change.service, database: change.path[0] ?? '', changeIds: [change.id], statements });
  };

  for (const change of changes) {
    // A Lakehouse Federation table accepts SET OWNER and RENAME only
    // (docs.databricks.com/sql/language-manual/sql-ref-syntax-ddl-alter-table).
    if (change.property !== 'owner' && (change.level === 'table' || change.level === 'column') && tableOf(change)?.facts?.['tableType'] === 'FOREIGN') {
      skip(change, 'a foreign table (Lakehouse Federation) accepts only SET OWNER and RENAME: its comments and tags live in the foreign catalog');
      continue;
    }
    if (!unity && (change.property !== 'description' || change.level === 'database')) {
      skip(
        change,
        `${HIVE_METASTORE} is not in Unity Catalog: only schema, table and column descriptions can be set there (no catalog description, owners or tags); move the data to a Unity Catalog catalog to manage them`,
      );
      continue;
    }
    switch (change.property) {
      case 'description': {
        if (change.level === 'column') {
          const table = tableOf(change);
          const column = quoteDatabricksIdentifier(change.path[3] ?? '');
          // ALTER ... ALTER COLUMN ... COMMENT works on every runtime, but not on a plain view,
          // whose column comments can only be set with COMMENT ON COLUMN (DBR 16.1+ / DBSQL).
          if (isView(table)) push(change.id, change, [change.id], `COMMENT ON COLUMN ${dialect.qualifiedName(change.path.slice(1, 4))} IS ${quoteDatabricksLiteral(change.after)}`);
          else
            push(
              change.id,
              change,
              [change.id],
              `ALTER ${relationKeyword(table)} ${objectName(change)} ALTER COLUMN ${column} COMMENT ${quoteDatabricksLiteral(change.after ?? '')}`,
            );
        } else {
          const on = change.level === 'database' ? 'CATALOG' : change.level === 'schema' ? 'SCHEMA' : 'TABLE';
          push(change.id, change, [change.id], `COMMENT ON ${on} ${objectName(change)} IS ${quoteDatabricksLiteral(change.after)}`);
        }
        break;
      }
      case 'owner':
        if (change.level === 'column') skip(change, 'a Databricks column has no owner of its own');
        else if (change.after === null) skip(change, 'a Unity Catalog object always has an owner; name the new owner instead of removing it');
        // SET OWNER TO: the one form every ALTER documents (materialized views and streaming tables have no other).
        else push(change.id, change, [change.id], `ALTER ${alterTarget(change)} ${objectName(change)} SET OWNER TO ${quoteDatabricksIdentifier(change.after)}`);
        break;
      case 'tag': {
        const engineOwned = _service.options['manageEngineTags'] === true ? undefined : engineOwnedTagReason(change.key ?? '');
        if (engineOwned !== undefined) skip(change, `tag ${change.key ?? ''} is not managed by metaform: ${engineOwned}; set options.manageEngineTags: true to manage it`);
        else if (change.level === 'column' && isView(tableOf(change))) viewColumnTag(change);
        else tagChanges.push(change);
        break;
      }
    }
  }

  for (const group of groupBy(tagChanges, (change) => JSON.stringify(change.path)).values()) {
    const first = group[0] as Change;
    const address = formatAddress(first.service, first.path);
    const column = first.level === 'column' ? ` ALTER COLUMN ${quoteDatabricksIdentifier(first.path[3] ?? '')}` : '';
    const target = `ALTER ${alterTarget(first)} ${objectName(first)}${column}`;
    const sets = group.filter((change) => change.after !== null);
    const unsets = group.filter((change) => change.after === null);
    // One operation, unset first: the 50-tag limit counts what is left after the removals.
    const statements: string[] = [];
    if (unsets.length) statements.push(`${target} UNSET TAGS (${unsets.map((change) => quoteDatabricksLiteral(change.key ?? '')).join(', ')})`);
    if (sets.length)
      statements.push(`${target} SET TAGS (${sets.map((change) => `${quoteDatabricksLiteral(change.key ?? '')} = ${quoteDatabricksLiteral(change.after)}`).join(', ')})`);
    result.operations.push({ id: `${address}#tags`, service: first.service, database: first.path[0] ?? '', changeIds: [...unsets, ...sets].map((change) => change.id), statements });
  }
  return result;
}
