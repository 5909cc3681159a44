import type pg from 'pg';
import { readPostgresDatabase, type CatalogQueries, type DatabaseRead } from '../postgres/catalog.js';
import { SYSTEM_SCHEMAS } from '../shared/schemas.js';

/**
 * Comments come from pg_description, not the SVV_* views: SVV_REDSHIFT_TABLES.remarks is
 * varchar(128) and SVV_ALL_*.remarks varchar(256), so long descriptions would read truncated
 * and every plan would try to rewrite them. Redshift has no array parameters; the schema filter
 * is a list of parameters (still one query per kind of object).
 */
const tableKinds = `c.relkind IN ('r', 'v')`;
const REDSHIFT_CATALOG: CatalogQueries = {
  // Redshift keeps database comments in pg_description (it predates pg_shdescription).
  database: `SELECT d.datname, version(), 'off', pg_get_userbyid(d.datdba), obj_description(d.oid, 'pg_database')
    FROM pg_database d WHERE d.datname = current_database()`,
  schemas: (filter) => `SELECT n.nspname, pg_get_userbyid(n.nspowner), obj_description(n.oid, 'pg_namespace')
    FROM pg_namespace n WHERE ${filter}`,
  tables: (filter) => `SELECT n.nspname, c.relname, c.relkind::text, pg_get_userbyid(c.relowner), d.description, c.oid
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_description d ON d.objoid = c.oid AND d.objsubid = 0 AND d.classoid = 'pg_class'::regclass
    WHERE ${tableKinds} AND ${filter}`,
  columns: (filter) => `SELECT a.attrelid, a.attnum, a.attname, d.description
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_description d ON d.objoid = c.oid AND d.objsubid = a.attnum AND d.classoid = 'pg_class'::regclass
    WHERE a.attnum > 0 AND NOT a.attisdropped AND ${tableKinds} AND ${filter}`,
  system: SYSTEM_SCHEMAS.redshift,
};

export async function readRedshiftDatabase(client: pg.Client, schemas: readonly string[] | undefined): Promise<DatabaseRead> {
  const read = await readPostgresDatabase(client, REDSHIFT_CATALOG, schemas);
  // Redshift always reads backslashes in literals as escapes, whatever the PostgreSQL-era setting says.
  read.server['standardConformingStrings'] = false;
  return read;
}
