import type { Change, LiveObject, RenderResult } from '../../core/model.js';
import { findLive } from '../../core/model.js';
import { renderEachChange } from '../shared/render.js';
import type { Dialect } from '../types.js';

/**
 * Athena runs DDL through its Hive DDL parser ("To escape reserved keywords in DDL statements,
 * enclose them in backticks": https://docs.aws.amazon.com/athena/latest/ug/reserved-words.html),
 * whose lexer is Hive's (apache/hive parser/src/java/org/apache/hadoop/hive/ql/parse/HiveLexer.g):
 * - a quoted identifier is `...` with a doubled backtick as the escape (QuotedIdentifier);
 * - a string literal is '...' or "..." with backslash escapes, and adjacent literals are one
 *   token (StringLiteral is `( '...' | "..." )+`), unescaped by BaseSemanticAnalyzer
 *   .unescapeSQLString: \' \" \\ \n \r \t \b \0 \Z, \uXXXX and \ooo octal; any other \x is x.
 * So `''` is never a quote: Hive reads 'it''s' as the two literals 'it' and 's', i.e. "its".
 * A quote is written \', a backslash \\; newlines and carriage returns as \n and \r keep the
 * statement on one line (pyathena#264 reports raw newlines refused in column comments).
 */
export function quoteAthenaIdentifier(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

const LITERAL_ESCAPES: Record<string, string> = { '\\': '\\\\', "'": "\\'", '\n': '\\n', '\r': '\\r' };

export function quoteAthenaLiteral(value: string | null): string {
  // A removed comment is the empty one: Athena documents no UNSET TBLPROPERTIES for Hive tables.
  return `'${(value ?? '').replace(/[\\'\n\r]/g, (c) => LITERAL_ESCAPES[c] ?? c)}'`;
}

export const athenaDialect: Dialect = {
  quoteIdentifier: quoteAthenaIdentifier,
  quoteLiteral: quoteAthenaLiteral,
  // The catalog is the query's QueryExecutionContext.Catalog, so DDL names are database.table.
  qualifiedName: (path) => path.slice(0, 2).map(quoteAthenaIdentifier).join('.'),
};

/** Glue's TableType of a view (https://docs.aws.amazon.com/athena/latest/ug/views.html: views are Glue tables of type VIRTUAL_VIEW). */
export const VIEW_TABLE_TYPE = 'VIRTUAL_VIEW';

export function tableKind(table: LiveObject | undefined): 'view' | 'iceberg' | 'table' {
  const facts = table?.facts ?? {};
  if (facts['tableType'] === VIEW_TABLE_TYPE) return 'view';
  if (typeof facts['format'] === 'string' && facts['format'].toUpperCase() === 'ICEBERG') return 'iceberg';
  return 'table';
}

export const VIEW_SKIP =
  'an Athena view has no table comment metaform can set: ALTER TABLE ... SET TBLPROPERTIES applies to tables, not views; describe the view in OpenMetadata instead';
export const ICEBERG_SKIP =
  'an Iceberg table keeps its properties in the Iceberg metadata file, not in Glue, and Athena does not accept custom properties there ("Athena does not accept custom table properties", docs.aws.amazon.com/athena/latest/ug/querying-iceberg-alter-table-set-properties.html); metaform manages Hive table descriptions only';

/**
 * Pure: one `ALTER TABLE db.t SET TBLPROPERTIES ('comment' = ...)` per table description; views
 * and Iceberg tables are skipped with the reason. Validation refuses every other property.
 */
export function renderAthena(changes: readonly Change[], snapshot: Parameters<typeof findLive>[0]): RenderResult {
  return renderEachChange(changes, (change) => {
    if (change.property !== 'description' || change.level !== 'table') return { skip: `Athena manages table descriptions only, not a ${change.level} ${change.property}` };
    const kind = tableKind(findLive(snapshot, change.path));
    if (kind === 'view') return { skip: VIEW_SKIP };
    if (kind === 'iceberg') return { skip: ICEBERG_SKIP };
    return { statements: [`ALTER TABLE ${athenaDialect.qualifiedName(change.path.slice(1, 3))} SET TBLPROPERTIES ('comment' = ${quoteAthenaLiteral(change.after)})`] };
  });
}
