import type { Change, LiveObject } from '../../core/model.js';
import type { Dialect } from '../types.js';
import type { RenderedChange } from '../shared/render.js';
import { quotePgIdentifier } from '../postgres/dialect.js';

/**
 * Redshift reads a backslash in '...' as an escape (QUOTE_LITERAL "doubles any embedded single
 * quotation marks and backslashes"), unlike PostgreSQL since 9.1.
 */
export function quoteRedshiftLiteral(value: string | null): string {
  return value === null ? 'NULL' : `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

export const redshiftDialect: Dialect = {
  quoteIdentifier: quotePgIdentifier,
  quoteLiteral: quoteRedshiftLiteral,
  qualifiedName: (path) => path.map(quotePgIdentifier).join('.'),
};

/**
 * Redshift folds identifiers to lower case, quoted ones included, unless
 * enable_case_sensitive_identifier is on; the default is what we match.
 */
export function redshiftCanonicalName(name: string): string {
  return name.toLowerCase();
}

/** Redshift's maximum comment length is not documented as larger than PostgreSQL's; its VARCHAR cap is 65535 bytes. */
const MAX_COMMENT_BYTES = 65535;

export function renderRedshiftChange(change: Change, table: LiveObject | undefined): RenderedChange {
  const [database = '', ...below] = change.path;
  if (change.after?.includes('\0')) return { skip: 'Redshift text cannot hold a NUL character' };
  if (change.after !== null && Buffer.byteLength(change.after) > MAX_COMMENT_BYTES)
    return { skip: `Redshift comments hold at most ${MAX_COMMENT_BYTES} bytes` };
  const object = change.level === 'database' ? quotePgIdentifier(database) : redshiftDialect.qualifiedName(below);
  const isView = table?.facts?.['relkind'] === 'v';
  switch (change.property) {
    case 'description': {
      const kind = { database: 'DATABASE', schema: 'SCHEMA', table: isView ? 'VIEW' : 'TABLE', column: 'COLUMN' }[change.level];
      // COMMENT ON DATABASE applies to the current database only: execute() connects to it.
      return { statements: [`COMMENT ON ${kind} ${object} IS ${quoteRedshiftLiteral(change.after)}`] };
    }
    case 'owner': {
      if (change.after === null) return { skip: 'a Redshift object always has an owner' };
      // Redshift changes a view's owner with ALTER TABLE too (it has no ALTER VIEW ... OWNER).
      const kind = { database: 'DATABASE', schema: 'SCHEMA', table: 'TABLE', column: 'TABLE' }[change.level];
      return { statements: [`ALTER ${kind} ${object} OWNER TO ${quotePgIdentifier(change.after)}`] };
    }
    case 'tag':
      return { skip: 'Redshift has no object tags' };
  }
}
