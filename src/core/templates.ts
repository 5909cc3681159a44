import type { Dialect } from './connector.js';
import { MetaformError } from './errors.js';
import type { Change } from './model.js';

/**
 * Custom SQL per operation, keyed `<level>.<property>[.<action>]` (action: set | unset).
 * Placeholders are quoted by the service's dialect:
 *   {database} {schema} {table} {column}  quoted identifiers
 *   {object}                              the object's qualified name
 *   {value} {tag_key} {tag_value}         string literals (NULL when removing); {tag_key} is the tag
 *                                         object's qualified name where tags are objects (Snowflake)
 *   {owner}                               the owner, quoted as an identifier (roles are identifiers in SQL)
 *   {raw.<name>}                          the unquoted text: only for the rare case a template
 *                                         needs it, since user text then reaches SQL unescaped.
 */
const QUOTED = ['database', 'schema', 'table', 'column', 'object', 'value', 'owner', 'tag_key', 'tag_value'] as const;
type PlaceholderName = (typeof QUOTED)[number];
const PLACEHOLDER = /\{(raw\.)?([a-z_]+)\}/g;

export function templateKeyFor(change: Change): string[] {
  const action = change.after === null ? 'unset' : 'set';
  return [`${change.level}.${change.property}.${action}`, `${change.level}.${change.property}`];
}

export function findTemplate(templates: Record<string, string>, change: Change): string | undefined {
  for (const key of templateKeyFor(change)) {
    const template = templates[key];
    if (template !== undefined) return template;
  }
  return undefined;
}

/** Placeholders a template uses that do not exist (checked by `validate`). */
export function unknownPlaceholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)]
    .filter((match) => !(QUOTED as readonly string[]).includes(match[2] ?? ''))
    .map((match) => match[0]);
}

/**
 * `{raw.*}` placeholders a template uses, in order (each occurrence). `validate` warns about them:
 * their text reaches SQL unescaped, so a description with a quote breaks the statement, or runs
 * SQL of its author's choosing.
 */
export function rawPlaceholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].filter((match) => match[1] !== undefined).map((match) => match[0]);
}

export function renderTemplate(template: string, change: Change, dialect: Dialect): string {
  const [database = '', schema, table, column] = change.path;
  const raw: Record<PlaceholderName, string | null | undefined> = {
    database,
    schema,
    table,
    column,
    object: undefined,
    value: change.property === 'description' ? change.after : undefined,
    owner: change.property === 'owner' ? change.after : undefined,
    tag_key: change.property === 'tag' ? change.key : undefined,
    tag_value: change.property === 'tag' ? change.after : undefined,
  };
  return template.replace(PLACEHOLDER, (whole, rawPrefix: string | undefined, name: string) => {
    if (!(QUOTED as readonly string[]).includes(name))
      throw new MetaformError(`template for ${change.id} uses unknown placeholder ${whole}`);
    const key = name as PlaceholderName;
    if (key === 'object') {
      const below = change.path.slice(1);
      return below.length ? dialect.qualifiedName(below) : dialect.quoteIdentifier(database);
    }
    const value = raw[key];
    if (value === undefined)
      throw new MetaformError(`template for ${change.id} uses ${whole}, which a ${change.level} ${change.property} change does not have`);
    if (rawPrefix) return value ?? '';
    if (key === 'tag_key' && value !== null && dialect.quoteTagKey) return dialect.quoteTagKey(value);
    if (key === 'value' || key === 'tag_key' || key === 'tag_value') return dialect.quoteLiteral(value);
    if (value === null) return 'NULL';
    return dialect.quoteIdentifier(value);
  });
}
