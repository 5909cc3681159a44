/**
 * An in-memory account: databases > schemas > tables (and views) > columns, each with a comment,
 * an owner and tag assignments, plus roles and tag objects. Names are stored exactly as the
 * engine stores them (folding is the lexer's business), so lookups are exact.
 */

export interface TagObject {
  database: string;
  schema: string;
  name: string;
  /** null: any value is allowed. */
  allowedValues: string[] | null;
  comment: string | null;
  owner: string;
}

/** A tag assignment: the tag object's full name -> value. */
export type TagAssignments = Map<string, { tag: TagObject; value: string }>;

export interface CatalogNode {
  name: string;
  comment: string | null;
  owner: string | null;
  tags: TagAssignments;
}

export interface ColumnNode extends CatalogNode {
  dataType: string;
  position: number;
  nullable: boolean;
}

export interface TableNode extends CatalogNode {
  /** 'BASE TABLE', 'VIEW', 'MATERIALIZED VIEW', 'EXTERNAL TABLE', ... */
  kind: string;
  columns: Map<string, ColumnNode>;
}

export interface SchemaNode extends CatalogNode {
  tables: Map<string, TableNode>;
  tagObjects: Map<string, TagObject>;
}

export interface DatabaseNode extends CatalogNode {
  schemas: Map<string, SchemaNode>;
}

export function tagKey(tag: Pick<TagObject, 'database' | 'schema' | 'name'>): string {
  return JSON.stringify([tag.database, tag.schema, tag.name]);
}

export class Catalog {
  readonly databases = new Map<string, DatabaseNode>();
  readonly roles = new Set<string>();

  addDatabase(name: string, owner: string): DatabaseNode {
    const database: DatabaseNode = { name, comment: null, owner, tags: new Map(), schemas: new Map() };
    this.databases.set(name, database);
    return database;
  }

  addSchema(database: DatabaseNode, name: string, owner: string): SchemaNode {
    const schema: SchemaNode = { name, comment: null, owner, tags: new Map(), tables: new Map(), tagObjects: new Map() };
    database.schemas.set(name, schema);
    return schema;
  }

  addTable(schema: SchemaNode, name: string, kind: string, owner: string, columns: { name: string; dataType: string }[]): TableNode {
    const table: TableNode = { name, kind, comment: null, owner, tags: new Map(), columns: new Map() };
    columns.forEach((column, i) =>
      table.columns.set(column.name, { name: column.name, dataType: column.dataType, position: i + 1, nullable: true, comment: null, owner: null, tags: new Map() }),
    );
    schema.tables.set(name, table);
    return table;
  }

  /** Every tag object of the account. */
  *tagObjects(): Generator<TagObject> {
    for (const database of this.databases.values()) for (const schema of database.schemas.values()) yield* schema.tagObjects.values();
  }

  /** Every object with its path, depth first: database, its schemas, their tables, their columns. */
  *walk(): Generator<{ node: CatalogNode; domain: 'DATABASE' | 'SCHEMA' | 'TABLE' | 'COLUMN'; path: string[] }> {
    for (const database of this.databases.values()) {
      yield { node: database, domain: 'DATABASE', path: [database.name] };
      for (const schema of database.schemas.values()) {
        yield { node: schema, domain: 'SCHEMA', path: [database.name, schema.name] };
        for (const table of schema.tables.values()) {
          yield { node: table, domain: 'TABLE', path: [database.name, schema.name, table.name] };
          for (const column of table.columns.values()) yield { node: column, domain: 'COLUMN', path: [database.name, schema.name, table.name, column.name] };
        }
      }
    }
  }
}
