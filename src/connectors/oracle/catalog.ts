import type { CatalogSnapshot } from '../../core/model.js';
import { liveChild, newLiveObject } from '../../core/model.js';
import { spellName } from './names.js';

/** Oracle is two-level here: one database, `default`; a schema is its owning user. */
export const ORACLE_DATABASE = 'default';

/** Oracle refuses an IN list of more than 1000 expressions (ORA-01795): owners go in chunks. */
const OWNERS_PER_QUERY = 1000;

export type RowReader = (sql: string, binds: readonly string[]) => Promise<unknown[][]>;

const text = (value: unknown): string => String(value);
const nullable = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/** The users whose schemas to read when the YAML names none (import): every user not maintained by Oracle. */
export const USERS_SQL = `SELECT username FROM all_users WHERE oracle_maintained = 'N' ORDER BY username`;

/** The three catalog queries for a set of owners, with one bind per owner. */
export function oracleCatalogQueries(owners: number): { tables: string; mviews: string; columns: string } {
  const list = Array.from({ length: owners }, (_, index) => `:${index + 1}`).join(', ');
  return {
    tables: `SELECT owner, table_name, table_type, comments FROM all_tab_comments WHERE owner IN (${list})`,
    mviews: `SELECT owner, mview_name, comments FROM all_mview_comments WHERE owner IN (${list})`,
    columns: `SELECT owner, table_name, column_name, comments FROM all_col_comments WHERE owner IN (${list})`,
  };
}

/**
 * Three queries per thousand schemas, whatever the number of tables. `schemas` are stored owner
 * names; undefined reads every user's schema that Oracle does not maintain; an empty list reads
 * nothing below the database.
 */
export async function readOracleCatalog(
  service: string,
  read: RowReader,
  databases: readonly string[],
  schemas: readonly string[] | undefined,
  version: string,
): Promise<CatalogSnapshot> {
  const snapshot: CatalogSnapshot = { service, databases: new Map(), server: { version }, queries: 0 };
  if (!databases.includes(ORACLE_DATABASE)) return snapshot;
  const root = newLiveObject('database', ORACLE_DATABASE);
  snapshot.databases.set(ORACLE_DATABASE, root);
  let owners = schemas;
  if (owners === undefined) {
    owners = (await read(USERS_SQL, [])).map(([name]) => text(name));
    snapshot.queries++;
  }
  for (let start = 0; start < owners.length; start += OWNERS_PER_QUERY) {
    const chunk = owners.slice(start, start + OWNERS_PER_QUERY);
    const queries = oracleCatalogQueries(chunk.length);
    const tables = await read(queries.tables, chunk);
    const mviews = await read(queries.mviews, chunk);
    const columns = await read(queries.columns, chunk);
    snapshot.queries += 3;
    const schemaOf = (owner: unknown) => liveChild(root, 'schema', spellName(text(owner)));
    for (const owner of chunk) schemaOf(owner);
    for (const [owner, name, type, comments] of tables) {
      const table = liveChild(schemaOf(owner), 'table', spellName(text(name)));
      table.description = nullable(comments);
      table.facts = { kind: text(type) };
    }
    // A materialized view is also listed by its container table: its own comment is the one managed.
    for (const [owner, name, comments] of mviews) {
      const table = liveChild(schemaOf(owner), 'table', spellName(text(name)));
      table.description = nullable(comments);
      table.facts = { kind: 'MATERIALIZED VIEW' };
    }
    for (const [owner, table, name, comments] of columns) {
      const parent = root.children.get(spellName(text(owner)))?.children.get(spellName(text(table)));
      if (parent) liveChild(parent, 'column', spellName(text(name))).description = nullable(comments);
    }
  }
  // Users with no schema objects are still schemas, but a schema the YAML names that no user owns is missing.
  if (schemas !== undefined) {
    const known = new Set((await read(`SELECT username FROM all_users`, [])).map(([name]) => spellName(text(name))));
    snapshot.queries++;
    for (const name of [...root.children.keys()]) if (!known.has(name)) root.children.delete(name);
  }
  return snapshot;
}
