/**
 * The in-memory Unity Catalog behind the emulator: catalogs > schemas > tables > columns, each
 * with a comment, an owner (catalog..table) and tags, plus the account's principals.
 *
 * Catalog SELECTs are evaluated by the shared kit (test/emulators/kit/select.ts). The kit's
 * catalog is not used: its tags are Snowflake tag objects (a schema-level object per key, with
 * allowed values), where Databricks keys are free strings on each securable, and it has no
 * hive_metastore. This module keeps to a small surface (build with `addCatalog` & co.) so that a
 * kit catalog with free-string tags could replace it.
 *
 * Names of catalogs, schemas and tables are stored lower-case, as Unity Catalog does; columns
 * keep their case and are found case-insensitively.
 */

/** FOREIGN: a Lakehouse Federation table, mirrored from a foreign catalog. */
export type TableType = 'MANAGED' | 'EXTERNAL' | 'VIEW' | 'MATERIALIZED_VIEW' | 'STREAMING_TABLE' | 'FOREIGN';

export interface Securable {
  name: string;
  comment: string | null;
  owner: string | null;
  tags: Map<string, string>;
}

export interface EmulatedColumn {
  name: string;
  comment: string | null;
  dataType: string;
  tags: Map<string, string>;
}

export interface EmulatedTable extends Securable {
  type: TableType;
  columns: Map<string, EmulatedColumn>;
}

export interface EmulatedSchema extends Securable {
  tables: Map<string, EmulatedTable>;
}

export interface EmulatedCatalog extends Securable {
  /** false for hive_metastore: no Unity Catalog features (tags, owners, catalog comment). */
  unity: boolean;
  schemas: Map<string, EmulatedSchema>;
}

export class EmulatedAccount {
  readonly catalogs = new Map<string, EmulatedCatalog>();
  readonly principals = new Set<string>();

  addPrincipal(...names: string[]): void {
    for (const name of names) this.principals.add(name);
  }

  addCatalog(name: string, options: { owner?: string; comment?: string; unity?: boolean } = {}): EmulatedCatalog {
    const catalog: EmulatedCatalog = {
      name: name.toLowerCase(),
      comment: options.comment ?? null,
      owner: options.owner ?? null,
      tags: new Map(),
      unity: options.unity ?? true,
      schemas: new Map(),
    };
    this.catalogs.set(catalog.name, catalog);
    return catalog;
  }

  addSchema(catalog: EmulatedCatalog, name: string, options: { owner?: string; comment?: string } = {}): EmulatedSchema {
    const schema: EmulatedSchema = { name: name.toLowerCase(), comment: options.comment ?? null, owner: options.owner ?? catalog.owner, tags: new Map(), tables: new Map() };
    catalog.schemas.set(schema.name, schema);
    return schema;
  }

  addTable(
    schema: EmulatedSchema,
    name: string,
    columns: readonly string[],
    options: { type?: TableType; owner?: string; comment?: string } = {},
  ): EmulatedTable {
    const table: EmulatedTable = {
      name: name.toLowerCase(),
      comment: options.comment ?? null,
      owner: options.owner ?? schema.owner,
      tags: new Map(),
      type: options.type ?? 'MANAGED',
      columns: new Map(),
    };
    for (const column of columns) table.columns.set(column.toLowerCase(), { name: column, comment: null, dataType: 'STRING', tags: new Map() });
    schema.tables.set(table.name, table);
    return table;
  }
}
