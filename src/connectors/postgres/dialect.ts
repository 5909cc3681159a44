import type { Change, JsonValue, LiveObject } from '../../core/model.js';
import type { Dialect } from '../types.js';
import type { RenderedChange } from '../shared/render.js';

export function quotePgIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * A literal that reads the same whatever standard_conforming_strings says (it is a per-database,
 * per-role, per-session setting, so no single reading of it can be trusted for every statement):
 * text without a backslash is plain '...' (a backslash is the only character the setting changes),
 * text with one is an E'...' escape string with doubled backslashes, which always reads escapes.
 */
export function quotePgLiteral(value: string | null): string {
  if (value === null) return 'NULL';
  const quoted = value.replaceAll("'", "''");
  return quoted.includes('\\') ? `E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
}

export const pgDialect: Dialect = {
  quoteIdentifier: quotePgIdentifier,
  quoteLiteral: quotePgLiteral,
  qualifiedName: (path) => path.map(quotePgIdentifier).join('.'),
};

/** The dialect does not depend on server facts; the signature is the Connector's. */
export function postgresDialect(_server: Record<string, JsonValue> = {}): Dialect {
  return pgDialect;
}

/** pg_class.relkind -> the keyword COMMENT ON and ALTER ... OWNER TO take for it. */
const RELATION_KEYWORD: Record<string, string> = {
  r: 'TABLE',
  p: 'TABLE',
  v: 'VIEW',
  m: 'MATERIALIZED VIEW',
  f: 'FOREIGN TABLE',
};

export function relationKeyword(table: LiveObject | undefined): string {
  const relkind = table?.facts?.['relkind'];
  return (typeof relkind === 'string' && RELATION_KEYWORD[relkind]) || 'TABLE';
}

/** The statement for one change; `table` is the live table (for its kind) on table/column changes. */
export function renderPostgresChange(change: Change, dialect: Dialect, table: LiveObject | undefined): RenderedChange {
  const [database = '', ...below] = change.path;
  if (change.after?.includes('\0')) return { skip: 'PostgreSQL text cannot hold a NUL character' };
  const object = change.level === 'database' ? dialect.quoteIdentifier(database) : dialect.qualifiedName(below);
  const kind = change.level === 'database' ? 'DATABASE' : change.level === 'schema' ? 'SCHEMA' : relationKeyword(table);
  switch (change.property) {
    case 'description': {
      const target = change.level === 'column' ? 'COLUMN' : kind;
      return { statements: [`COMMENT ON ${target} ${object} IS ${dialect.quoteLiteral(change.after)}`] };
    }
    case 'owner':
      if (change.after === null) return { skip: 'a PostgreSQL object always has an owner' };
      return { statements: [`ALTER ${kind} ${object} OWNER TO ${dialect.quoteIdentifier(change.after)}`] };
    case 'tag':
      return { skip: 'PostgreSQL has no object tags' };
  }
}
