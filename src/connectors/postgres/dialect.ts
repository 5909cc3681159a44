import type { Change, JsonValue, LiveObject } from '../../core/model.js';
import type { Dialect } from '../types.js';
import type { RenderedChange } from '../shared/render.js';

export function quotePgIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * With standard_conforming_strings on (the default since 9.1) a backslash is literal in '...';
 * with it off, an E'...' literal with doubled backslashes reads the same whatever the setting.
 */
export function postgresDialect(server: Record<string, JsonValue>): Dialect {
  const standardStrings = server['standardConformingStrings'] !== false;
  return {
    quoteIdentifier: quotePgIdentifier,
    quoteLiteral: (value) => {
      if (value === null) return 'NULL';
      const quoted = value.replaceAll("'", "''");
      return standardStrings ? `'${quoted}'` : `E'${quoted.replaceAll('\\', '\\\\')}'`;
    },
    qualifiedName: (path) => path.map(quotePgIdentifier).join('.'),
  };
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
