import type { Change, CatalogSnapshot, JsonValue, LiveObject, Operation, RenderResult } from '../../core/model.js';
import { findLive, formatAddress } from '../../core/model.js';
import { groupBy } from '../../core/group.js';
import type { Dialect } from '../types.js';
import { quoteBigQueryIdentifier, quoteBigQueryLiteral } from './literal.js';

export { quoteBigQueryIdentifier, quoteBigQueryLiteral };

/** The statements for the changes of one project (database = project, schema = dataset). */
export function bigQueryDialect(server: Record<string, JsonValue> = {}): Dialect {
  const project = typeof server['project'] === 'string' ? server['project'] : undefined;
  return {
    quoteIdentifier: quoteBigQueryIdentifier,
    quoteLiteral: quoteBigQueryLiteral,
    qualifiedName: (path) => (project === undefined ? path : [project, ...path]).map(quoteBigQueryIdentifier).join('.'),
  };
}

/**
 * INFORMATION_SCHEMA.TABLES.table_type -> the ALTER that sets its options
 * (https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language:
 * ALTER TABLE / ALTER VIEW / ALTER MATERIALIZED VIEW ... SET OPTIONS). External tables, snapshots
 * and clones are tables to ALTER TABLE.
 */
function alterKeyword(table: LiveObject | undefined): string {
  const type = table?.facts?.['tableType'];
  return type === 'VIEW' ? 'VIEW' : type === 'MATERIALIZED VIEW' ? 'MATERIALIZED VIEW' : 'TABLE';
}

/** REST TableFieldSchema.description: "The maximum length is 1,024 characters." */
const MAX_FIELD_DESCRIPTION = 1024;

/** The marker of an operation that runs as tables.patch, not as a query (see renderBigQuery). */
export const TABLES_PATCH = 'tables.patch ';

/** What a tables.patch operation changes: field path -> description (null clears it). */
export interface FieldPatch {
  projectId: string;
  datasetId: string;
  tableId: string;
  fields: Record<string, string | null>;
}

export function parseFieldPatch(statement: string): FieldPatch | undefined {
  if (!statement.startsWith(TABLES_PATCH)) return undefined;
  return JSON.parse(statement.slice(TABLES_PATCH.length)) as FieldPatch;
}

/** The object's labels once the changes are made: DDL `labels = [...]` replaces the whole set. */
function labelsAfter(live: LiveObject | undefined, changes: readonly Change[]): [string, string][] {
  const labels = new Map(Object.entries(live?.tags ?? {}));
  for (const change of changes) {
    if (change.after === null) labels.delete(change.key ?? '');
    else labels.set(change.key ?? '', change.after);
  }
  return [...labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

const lit = quoteBigQueryLiteral;

/**
 * Pure: the statements for the changes of one project.
 * - A dataset's or table's changes are one `ALTER ... SET OPTIONS (description = ..., labels = [...])`.
 *   DDL labels replace the whole set, so the statement lists every label the object keeps: the
 *   live ones the plan saw, with the changes made. A label someone adds between plan and apply
 *   changes that statement, and apply, which renders again from a fresh read, refuses the plan.
 * - A table's column descriptions are one `ALTER TABLE ... ALTER COLUMN a SET OPTIONS (...), ALTER
 *   COLUMN b ...`: one metadata update per table, well inside BigQuery's 5 per 10 seconds.
 * - Nested RECORD fields (`a.b`) have no DDL (ALTER COLUMN names a top-level column), so when a
 *   table has one, its column descriptions are one tables.patch instead: the schema as tables.get
 *   returns it, with only those descriptions changed, sent with the etag in If-Match (a table
 *   changed in between answers 412 and nothing is written). The plan shows the patch as JSON.
 */
export function renderBigQuery(changes: readonly Change[], snapshot: CatalogSnapshot, server: Record<string, JsonValue> = {}): RenderResult {
  const result: RenderResult = { operations: [], skipped: [] };
  const project = typeof server['project'] === 'string' ? server['project'] : (changes[0]?.path[0] ?? '');
  const dialect = bigQueryDialect({ ...server, project });
  const push = (id: string, group: readonly Change[], statement: string) => {
    const first = group[0] as Change;
    const operation: Operation = { id, service: first.service, database: first.path[0] ?? '', changeIds: group.map((change) => change.id), statements: [statement] };
    result.operations.push(operation);
  };
  const skip = (change: Change, reason: string) => result.skipped.push({ changeId: change.id, reason });
  const objectChanges: Change[] = [];
  const columnChanges: Change[] = [];
  for (const change of changes) {
    if (change.property === 'owner') skip(change, 'BigQuery has no object owner (dataset access entries are permissions, managed through IAM)');
    else if (change.level === 'database') skip(change, 'a BigQuery project has no description or labels that metaform manages');
    else if (change.level === 'column') {
      if (change.property === 'tag') skip(change, 'BigQuery columns have no labels (policy tags are access control)');
      else if (change.after !== null && [...change.after].length > MAX_FIELD_DESCRIPTION)
        skip(change, `BigQuery column descriptions are at most ${MAX_FIELD_DESCRIPTION} characters; this one has ${[...change.after].length}`);
      else columnChanges.push(change);
    } else objectChanges.push(change);
  }

  for (const group of groupBy(objectChanges, (change) => JSON.stringify(change.path)).values()) {
    const first = group[0] as Change;
    const live = findLive(snapshot, first.path);
    const options: string[] = [];
    const description = group.find((change) => change.property === 'description');
    if (description) options.push(`description = ${lit(description.after)}`);
    const labelChanges = group.filter((change) => change.property === 'tag');
    if (labelChanges.length > 0) {
      const labels = labelsAfter(live, labelChanges);
      options.push(`labels = ${labels.length === 0 ? 'NULL' : `[${labels.map(([key, value]) => `(${lit(key)}, ${lit(value)})`).join(', ')}]`}`);
    }
    const target = first.level === 'schema' ? 'SCHEMA' : alterKeyword(live);
    push(`${formatAddress(first.service, first.path)}#options`, group, `ALTER ${target} ${dialect.qualifiedName(first.path.slice(1))} SET OPTIONS (${options.join(', ')})`);
  }

  for (const group of groupBy(columnChanges, (change) => JSON.stringify(change.path.slice(0, 3))).values()) {
    const first = group[0] as Change;
    const tablePath = first.path.slice(0, 3);
    const table = findLive(snapshot, tablePath);
    const id = `${formatAddress(first.service, tablePath)}#columns`;
    const nested = group.some((change) => (change.path[3] ?? '').includes('.'));
    const keyword = alterKeyword(table);
    if (keyword === 'MATERIALIZED VIEW') {
      for (const change of group) skip(change, 'BigQuery has no statement that sets a materialized view column description');
      continue;
    }
    if (keyword === 'VIEW' && nested) {
      for (const change of group) skip(change, 'BigQuery has no statement that sets a view\'s nested field description');
      continue;
    }
    if (nested) {
      const patch: FieldPatch = { projectId: project, datasetId: first.path[1] ?? '', tableId: first.path[2] ?? '', fields: {} };
      for (const change of group) patch.fields[change.path[3] ?? ''] = change.after;
      push(id, group, `${TABLES_PATCH}${JSON.stringify(patch)}`);
      continue;
    }
    const clauses = group.map((change) => `ALTER COLUMN ${quoteBigQueryIdentifier(change.path[3] ?? '')} SET OPTIONS (description = ${lit(change.after)})`);
    push(id, group, `ALTER ${keyword} ${dialect.qualifiedName(tablePath.slice(1))} ${clauses.join(', ')}`);
  }
  return result;
}
