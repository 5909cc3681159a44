import type { LiveObject } from '../../core/model.js';
import { liveChild, newLiveObject } from '../../core/model.js';
import { runPool } from '../../core/pool.js';

/** The one table field the reader keeps, as ListTableMetadata and GetTableMetadata return it. */
export interface TableMetadata {
  Name?: string;
  TableType?: string;
  Parameters?: Record<string, string>;
}

/** One page of a paginated Athena list call. */
export interface Page<T> {
  items: T[];
  nextToken?: string;
}

/** The Athena calls the reader makes (client.ts binds them to the SDK; tests may count them). */
export interface CatalogApi {
  listDatabases(catalog: string, nextToken: string | undefined): Promise<Page<{ Name?: string }>>;
  listTableMetadata(catalog: string, database: string, nextToken: string | undefined): Promise<Page<TableMetadata>>;
  /** undefined when the table does not exist. */
  getTableMetadata(catalog: string, database: string, table: string): Promise<TableMetadata | undefined>;
}

/** The largest page ListDatabases and ListTableMetadata return ("Valid Range: Minimum value of 1. Maximum value of 50", API_ListTableMetadata.html, API_ListDatabases.html). */
export const PAGE_SIZE = 50;

export interface CatalogRead {
  database: LiveObject;
  requests: number;
}

/** Follows NextToken to the last page. */
async function everyPage<T>(fetchPage: (token: string | undefined) => Promise<Page<T>>, onItem: (item: T) => void): Promise<number> {
  let token: string | undefined;
  let requests = 0;
  do {
    const page = await fetchPage(token);
    requests++;
    for (const item of page.items) onItem(item);
    token = page.nextToken;
  } while (token);
  return requests;
}

/** A table as metaform sees it: its description is the Hive `comment` table property. */
function addTable(schema: LiveObject, metadata: TableMetadata): void {
  const table = liveChild(schema, 'table', metadata.Name ?? '');
  const comment = metadata.Parameters?.['comment'];
  table.description = comment === undefined || comment === '' ? null : comment;
  table.facts = { tableType: metadata.TableType ?? '', format: metadata.Parameters?.['table_type'] ?? '' };
}

/**
 * Reads one data catalog: ListDatabases, then ListTableMetadata of each Glue database (of the
 * ones named, when the YAML names some), 50 tables a page. That is ceil(databases / 50) plus, per
 * database, ceil(tables / 50) requests: 1,000 tables in one database cost 1 + 20. Databases are
 * read `concurrency` at a time; the pages of one database follow each other (NextToken).
 */
export async function readAthenaCatalog(api: CatalogApi, catalog: string, schemas: readonly string[] | undefined, concurrency: number): Promise<CatalogRead> {
  const database = newLiveObject('database', catalog);
  const names: string[] = [];
  let requests = await everyPage(
    (token) => api.listDatabases(catalog, token),
    (item) => names.push(item.Name ?? ''),
  );
  // Glue stores database and table names in lower case; the YAML may write them otherwise.
  const wanted = schemas === undefined ? undefined : new Set(schemas.map((name) => name.toLowerCase()));
  const read = names.filter((name) => wanted === undefined || wanted.has(name.toLowerCase()));
  await runPool(read, concurrency, async (name) => {
    const schema = liveChild(database, 'schema', name);
    // Not `requests += await ...`: that reads `requests` before the other databases' pages land.
    const pages = await everyPage(
      (token) => api.listTableMetadata(catalog, name, token),
      (metadata) => addTable(schema, metadata),
    );
    requests += pages;
  });
  return { database, requests };
}

/**
 * Reads the named tables again, one GetTableMetadata each (apply's staleness check touches a few
 * tables of schemas that may hold thousands): a table that is gone is left out.
 */
export async function readAthenaTables(api: CatalogApi, catalog: string, tables: readonly (readonly [string, string])[], concurrency: number): Promise<CatalogRead> {
  const database = newLiveObject('database', catalog);
  let requests = 0;
  await runPool(tables, concurrency, async ([schemaName, tableName]) => {
    const metadata = await api.getTableMetadata(catalog, schemaName, tableName);
    requests++;
    const schema = liveChild(database, 'schema', schemaName);
    if (metadata) addTable(schema, { ...metadata, Name: metadata.Name ?? tableName });
  });
  return { database, requests };
}
