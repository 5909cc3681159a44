/**
 * T-SQL quoting and the statements metaform runs on SQL Server:
 * - identifiers in [brackets] with ] doubled; literals N'...' with ' doubled (backslash is
 *   ordinary) — https://learn.microsoft.com/sql/relational-databases/databases/database-identifiers ;
 * - descriptions and tags are extended properties, written with sys.sp_addextendedproperty /
 *   sp_updateextendedproperty / sp_dropextendedproperty, whose @levelNname arguments are plain
 *   sysname names, never bracketed identifiers
 *   (https://learn.microsoft.com/sql/relational-databases/system-stored-procedures/sp-addextendedproperty-transact-sql);
 * - owners with ALTER AUTHORIZATION, which drops every permission granted on an object whose
 *   owner changes (https://learn.microsoft.com/sql/t-sql/statements/alter-authorization-transact-sql).
 */
import type { Change, CatalogSnapshot, JsonValue, LiveObject } from '../../core/model.js';
import { findLive } from '../../core/model.js';
import type { RenderedChange } from '../shared/render.js';
import type { Dialect, ServiceConfig } from '../types.js';

/** The property SSMS and most tools read as an object's description. */
export const DESCRIPTION_PROPERTY = 'MS_Description';
/** @value is sql_variant: at most 7,500 bytes; nvarchar text takes two bytes per UTF-16 unit. */
export const VALUE_BYTES = 7500;
/** Extended property names are sysname: nvarchar(128). */
export const PROPERTY_NAME_CHARS = 128;

export function quoteMssqlIdentifier(name: string): string {
  return `[${name.replaceAll(']', ']]')}]`;
}

export function quoteMssqlLiteral(value: string | null): string {
  return value === null ? 'NULL' : `N'${value.replaceAll("'", "''")}'`;
}

export const mssqlDialect: Dialect = {
  quoteIdentifier: quoteMssqlIdentifier,
  quoteLiteral: quoteMssqlLiteral,
  qualifiedName: (path) => path.map(quoteMssqlIdentifier).join('.'),
};

/** SQL Server's quoting does not depend on server facts. */
export function mssqlDialectFor(_server: Record<string, JsonValue> = {}): Dialect {
  return mssqlDialect;
}

/**
 * How SQL Server compares names: by the database's collation. The default collations of SQL
 * Server and Azure SQL are case-insensitive, so `Orders` and `orders` are one object; a
 * case-sensitive database is checked when it is read (catalog.ts).
 */
export function mssqlCanonicalName(name: string): string {
  return name.toLowerCase();
}

/** The tag prefix configured for a service, or undefined when tags are not enabled. */
export function tagPrefixOf(service: Pick<ServiceConfig, 'options'>): string | undefined {
  const prefix = service.options['tagPrefix'];
  return typeof prefix === 'string' && prefix.length > 0 ? prefix : undefined;
}

/** Why a tag key cannot be an extended property under this prefix, if it cannot. */
export function tagKeyProblem(key: string, prefix: string | undefined): string | undefined {
  if (prefix === undefined) return 'SQL Server tags are extended properties whose names start with a prefix: set services.<name>.options.tagPrefix (e.g. "tag:")';
  const name = prefix + key;
  if (name.toLowerCase() === DESCRIPTION_PROPERTY.toLowerCase()) return `tag ${key} would be the ${DESCRIPTION_PROPERTY} property, which holds descriptions`;
  if (name.length > PROPERTY_NAME_CHARS) return `tag key ${key} with prefix ${prefix} is ${name.length} characters long; an extended property name holds at most ${PROPERTY_NAME_CHARS}`;
  return undefined;
}

/** The @levelN arguments that name an object (its path below the database). */
function levelArguments(change: Change, live: LiveObject | undefined): string[] {
  const [, schema, table, column] = change.path;
  const args: string[] = [];
  const pair = (n: number, type: string, name: string) => args.push(`@level${n}type = N'${type}'`, `@level${n}name = ${quoteMssqlLiteral(name)}`);
  if (schema !== undefined) pair(0, 'SCHEMA', schema);
  if (table !== undefined) pair(1, live?.facts?.['type'] === 'V' ? 'VIEW' : 'TABLE', table);
  if (column !== undefined) pair(2, 'COLUMN', column);
  return args;
}

/**
 * One extended property set or removed: add when the live object lacks it, update when it has it
 * (an empty or NULL value counts as having it), drop to remove.
 */
function propertyStatement(change: Change, name: string, exists: boolean, table: LiveObject | undefined): RenderedChange {
  const levels = levelArguments(change, table);
  if (change.after === null) {
    if (!exists) return { skip: `the ${name} property is already absent` };
    return { statements: [['EXEC sys.sp_dropextendedproperty', [`@name = ${quoteMssqlLiteral(name)}`, ...levels].join(', ')].join(' ')] };
  }
  if (Buffer.byteLength(change.after, 'utf16le') > VALUE_BYTES)
    return { skip: `the value is ${Buffer.byteLength(change.after, 'utf16le')} bytes as nvarchar; an extended property holds at most ${VALUE_BYTES}` };
  const procedure = exists ? 'sys.sp_updateextendedproperty' : 'sys.sp_addextendedproperty';
  return { statements: [`EXEC ${procedure} ${[`@name = ${quoteMssqlLiteral(name)}`, `@value = ${quoteMssqlLiteral(change.after)}`, ...levels].join(', ')}`] };
}

/** The warning every object owner change carries, in the statement the plan shows. */
export const OWNER_WARNING = '/* WARNING: ALTER AUTHORIZATION drops every permission granted on this object; grant them again afterwards */';

function ownerStatement(change: Change, snapshot: CatalogSnapshot): RenderedChange {
  const [database = '', schema = '', table = ''] = change.path;
  const owner = change.after;
  if (owner === null) return { skip: 'a SQL Server object always has an owner' };
  switch (change.level) {
    case 'database':
      return { statements: [`ALTER AUTHORIZATION ON DATABASE::${quoteMssqlIdentifier(database)} TO ${quoteMssqlIdentifier(owner)}`] };
    case 'schema':
      return { statements: [`ALTER AUTHORIZATION ON SCHEMA::${quoteMssqlIdentifier(schema)} TO ${quoteMssqlIdentifier(owner)}`] };
    case 'table': {
      // Back to the schema's owner: TO SCHEMA OWNER, so that later schema owner changes carry it along.
      const schemaOwner = findLive(snapshot, [database, schema])?.owner;
      const to = schemaOwner === owner ? 'SCHEMA OWNER' : quoteMssqlIdentifier(owner);
      return { statements: [`ALTER AUTHORIZATION ON OBJECT::${quoteMssqlIdentifier(schema)}.${quoteMssqlIdentifier(table)} TO ${to} ${OWNER_WARNING}`] };
    }
    default:
      return { skip: 'a column has no owner of its own' };
  }
}

export function renderMssqlChange(change: Change, snapshot: CatalogSnapshot, service: Pick<ServiceConfig, 'options'>): RenderedChange {
  const live = findLive(snapshot, change.path);
  const table = change.path.length >= 3 ? findLive(snapshot, change.path.slice(0, 3)) : undefined;
  switch (change.property) {
    case 'description':
      return propertyStatement(change, DESCRIPTION_PROPERTY, live?.facts?.['hasDescription'] === true, table);
    case 'tag': {
      const key = change.key ?? '';
      const prefix = tagPrefixOf(service);
      const problem = tagKeyProblem(key, prefix);
      if (problem) return { skip: problem };
      return propertyStatement(change, `${prefix as string}${key}`, change.before !== null, table);
    }
    case 'owner':
      return ownerStatement(change, snapshot);
  }
}
