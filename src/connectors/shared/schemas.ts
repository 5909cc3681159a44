/**
 * Which schemas a catalog read covers, and the one SQL condition that selects them. The rule for
 * a database whose YAML names no schema: nothing below the database is read (the connector runs
 * no schema, table or column query), and the database's own properties are still planned.
 */

/** What to read below one database. */
export type SchemaScope = { read: 'every' } | { read: 'named'; names: readonly string[] } | { read: 'none' };

/** `schemas` as a ReadRequest gives it for one database: undefined = every schema; [] = none. */
export function schemaScope(schemas: readonly string[] | undefined): SchemaScope {
  if (schemas === undefined) return { read: 'every' };
  return schemas.length === 0 ? { read: 'none' } : { read: 'named', names: schemas };
}

/** The scope of a read that goes below the database (callers handle `none` first: nothing to query). */
export function scopeBelow(schemas: readonly string[] | undefined): Exclude<SchemaScope, { read: 'none' }> {
  const scope = schemaScope(schemas);
  if (scope.read === 'none') throw new Error('no schema is named: nothing below the database is read');
  return scope;
}

/** The schemas an engine keeps for itself: left out when every schema is read, read when named. */
export interface SystemSchemas {
  names: readonly string[];
  /** Name prefixes (PostgreSQL's per-session pg_temp_N and pg_toast schemas). */
  prefixes?: readonly string[];
}

export const SYSTEM_SCHEMAS = {
  postgres: { names: ['pg_catalog', 'information_schema'], prefixes: ['pg_toast', 'pg_temp_'] },
  redshift: { names: ['pg_catalog', 'information_schema', 'pg_internal', 'pg_automv'], prefixes: ['pg_toast', 'pg_temp_'] },
  mysql: { names: ['mysql', 'information_schema', 'performance_schema', 'sys'] },
  clickhouse: { names: ['system', 'INFORMATION_SCHEMA', 'information_schema'] },
  snowflake: { names: ['INFORMATION_SCHEMA'] },
  databricks: { names: ['information_schema'] },
} satisfies Record<string, SystemSchemas>;

/**
 * The condition on `column` that selects the scope's schemas (never called for `none`: nothing is
 * read). `literal` writes a value as the engine's query takes it: a quoted literal, or a
 * parameter placeholder (see Parameters). Prefixes compare with left(), which every engine has,
 * so no LIKE pattern needs escaping.
 */
export function schemaCondition(column: string, scope: Exclude<SchemaScope, { read: 'none' }>, system: SystemSchemas, literal: (value: string) => string): string {
  if (scope.read === 'named') return `${column} IN (${scope.names.map(literal).join(', ')})`;
  const parts = [`${column} NOT IN (${system.names.map(literal).join(', ')})`];
  for (const prefix of system.prefixes ?? []) parts.push(`left(${column}, ${prefix.length}) <> ${literal(prefix)}`);
  return parts.join(' AND ');
}

/** Placeholders for a query's values, in order: `$1, $2...` (PostgreSQL) or `?` (MySQL). */
export class Parameters {
  readonly values: string[] = [];
  constructor(private readonly style: 'dollar' | 'question') {}
  readonly add = (value: string): string => {
    this.values.push(value);
    return this.style === 'dollar' ? `$${this.values.length}` : '?';
  };
}
