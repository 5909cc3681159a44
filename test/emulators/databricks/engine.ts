/**
 * Runs one statement against the emulated account: DDL with Databricks' error classes, and the
 * information_schema SELECTs evaluated over the state. Error texts follow Databricks' error
 * classes as documented; the exact wording of the service was not compared (UNVERIFIED).
 */
import { DatabricksSqlError } from './lexer.js';
import type { EmulatedAccount, EmulatedCatalog, EmulatedColumn, EmulatedSchema, EmulatedTable, Securable, TableType } from './catalog.js';
import { evaluateQuery, type Query, type Relation, type Source } from '../kit/select.js';
import { EngineError } from '../kit/tokens.js';
import { parseStatement, type Statement, type Target } from './parser.js';

export type CellValue = string | number | null;
export type ColumnType = 'STRING' | 'INT';

export interface ResultSet {
  columns: { name: string; type: ColumnType }[];
  rows: CellValue[][];
}

export interface SessionNamespace {
  catalog: string;
  schema: string;
}

/** Documented tag limits (docs.databricks.com, "Apply tags to Unity Catalog securable objects"). */
export const TAG_LIMITS = { perObject: 50, keyLength: 255, valueLength: 1000, keyForbidden: /[.,\-=/:]/ } as const;

/**
 * Tags the platform owns, which an ordinary principal cannot remove: governed tags (the `system.`
 * ones are account-level governed tags; assigning or removing one needs the ASSIGN permission on
 * it, docs.databricks.com/aws/en/admin/governed-tags/) and the `class.` tags Data Classification
 * applies (docs.databricks.com/aws/en/data-governance/unity-catalog/data-classification). The
 * emulator's callers are ordinary service principals without ASSIGN.
 */
function checkPlatformTagUnset(key: string): void {
  if (/^(system|class)\./.test(key))
    throw new DatabricksSqlError('PERMISSION_DENIED', `User does not have ASSIGN on governed tag '${key}'.`, '42501');
}

/**
 * A foreign table takes ALTER TABLE ... SET OWNER and RENAME only: no comments, no tags
 * (docs.databricks.com/sql/language-manual/sql-ref-syntax-ddl-alter-table: "On foreign tables, you can perform only ALTER TABLE SET OWNER and ALTER TABLE RENAME TO").
 */
function refuseOnForeign(table: EmulatedTable, what: string): void {
  if (table.type === 'FOREIGN')
    throw new DatabricksSqlError('UNSUPPORTED_FEATURE.TABLE_OPERATION', `Table ${quoted([table.name])} does not support ${what}. Foreign tables accept only SET OWNER and RENAME.`, '0A000');
}

const quoted = (parts: readonly string[]) => parts.map((part) => `\`${part.replaceAll('`', '``')}\``).join('.');

export class DatabricksEngine {
  /** Statements run (the bench counts catalog queries through it). */
  statements = 0;

  constructor(readonly account: EmulatedAccount) {}

  run(sql: string, namespace: SessionNamespace): ResultSet | undefined {
    this.statements++;
    const statement = parseStatement(sql);
    return this.execute(statement, namespace);
  }

  /** Parse errors are reported differently from execution errors on the wire. */
  parse(sql: string): Statement {
    return parseStatement(sql);
  }

  execute(statement: Statement, namespace: SessionNamespace): ResultSet | undefined {
    switch (statement.type) {
      case 'select':
        return this.select(statement.query, namespace);
      case 'show-schemas': {
        const catalog = this.catalog(statement.catalog ?? namespace.catalog);
        return { columns: [{ name: 'databaseName', type: 'STRING' }], rows: [...catalog.schemas.values()].map((schema) => [schema.name]) };
      }
      case 'show-tables': {
        const { schema } = this.schema(statement.schema ?? [namespace.schema], namespace);
        return {
          columns: [
            { name: 'database', type: 'STRING' },
            { name: 'tableName', type: 'STRING' },
            { name: 'isTemporary', type: 'STRING' },
          ],
          rows: [...schema.tables.values()].map((table) => [schema.name, table.name, 'false']),
        };
      }
      case 'describe-schema': {
        const { catalog, schema } = this.schema(statement.name, namespace);
        return {
          columns: [
            { name: 'database_description_item', type: 'STRING' },
            { name: 'database_description_value', type: 'STRING' },
          ],
          rows: [
            ['Catalog Name', catalog.name],
            ['Namespace Name', schema.name],
            ['Comment', schema.comment ?? ''],
            ['Owner', schema.owner ?? ''],
          ],
        };
      }
      case 'describe-table': {
        // Spark's layout: the columns, a blank row, then '# Detailed Table Information' pairs.
        const { catalog, table } = this.table(statement.name, namespace);
        const rows: CellValue[][] = [...table.columns.values()].map((column) => [column.name, column.dataType.toLowerCase(), column.comment]);
        rows.push(['', '', ''], ['# Detailed Table Information', '', ''], ['Catalog', catalog.name, ''], ['Table', table.name, ''], ['Owner', table.owner ?? '', '']);
        if (table.comment !== null) rows.push(['Comment', table.comment, '']);
        rows.push(['Type', table.type === 'VIEW' ? 'VIEW' : table.type, '']);
        return {
          columns: [
            { name: 'col_name', type: 'STRING' },
            { name: 'data_type', type: 'STRING' },
            { name: 'comment', type: 'STRING' },
          ],
          rows,
        };
      }
      case 'comment':
        this.comment(statement.on, statement.name, statement.value, namespace);
        return undefined;
      case 'column-comment': {
        const { column } = this.column(statement.target, namespace);
        column.comment = statement.value;
        return undefined;
      }
      case 'owner': {
        const object = this.securable(statement.target, namespace, 'OWNER TO');
        if (!this.account.principals.has(statement.principal))
          throw new DatabricksSqlError('PRINCIPAL_DOES_NOT_EXIST', `Could not find principal with name ${statement.principal}.`, '42704');
        object.owner = statement.principal;
        return undefined;
      }
      case 'set-tags': {
        const tags = this.tagsOf(statement.target, namespace);
        const next = new Map(tags);
        for (const [key, value] of statement.tags) {
          checkTag(key, value);
          next.set(key, value);
        }
        if (next.size > TAG_LIMITS.perObject)
          throw new DatabricksSqlError('INVALID_PARAMETER_VALUE.TOO_MANY_TAGS', `A securable can have at most ${TAG_LIMITS.perObject} tags; this one would have ${next.size}.`, '22023');
        for (const [key, value] of statement.tags) tags.set(key, value);
        return undefined;
      }
      case 'unset-tags': {
        // ALTER ... UNSET TAGS is idempotent: a key the object lacks is no error.
        const tags = this.tagsOf(statement.target, namespace);
        for (const key of statement.keys) if (tags.has(key)) checkPlatformTagUnset(key);
        for (const key of statement.keys) tags.delete(key);
        return undefined;
      }
      case 'set-tag-on': {
        const tags = this.tagsOf(statement.target, namespace);
        checkTag(statement.key, statement.value);
        if (tags.has(statement.key))
          throw new DatabricksSqlError('TAG_ALREADY_EXISTS', `The tag ${statement.key} is already assigned to this object.`, '42710');
        if (tags.size >= TAG_LIMITS.perObject)
          throw new DatabricksSqlError('INVALID_PARAMETER_VALUE.TOO_MANY_TAGS', `A securable can have at most ${TAG_LIMITS.perObject} tags.`, '22023');
        tags.set(statement.key, statement.value);
        return undefined;
      }
      case 'unset-tag-on': {
        const tags = this.tagsOf(statement.target, namespace);
        if (!tags.delete(statement.key))
          throw new DatabricksSqlError('TAG_NOT_FOUND', `The tag ${statement.key} is not assigned to this object.`, '42704');
        return undefined;
      }
    }
  }

  // --- name resolution -------------------------------------------------------------------

  private catalog(name: string): EmulatedCatalog {
    const catalog = this.account.catalogs.get(name.toLowerCase());
    if (!catalog)
      throw new DatabricksSqlError('NO_SUCH_CATALOG_EXCEPTION', `Catalog '${name}' was not found. Please verify the catalog name and then retry the query or command again.`, '42704');
    return catalog;
  }

  private schema(name: readonly string[], namespace: SessionNamespace): { catalog: EmulatedCatalog; schema: EmulatedSchema } {
    if (name.length < 1 || name.length > 2) throw new DatabricksSqlError('REQUIRES_SINGLE_PART_NAMESPACE', `${quoted(name)} is not a valid schema name.`, '42K05');
    const catalogName = name.length === 2 ? (name[0] as string) : namespace.catalog;
    const schemaName = name[name.length - 1] as string;
    const catalog = this.catalog(catalogName);
    const schema = catalog.schemas.get(schemaName.toLowerCase());
    if (!schema)
      throw new DatabricksSqlError('SCHEMA_NOT_FOUND', `The schema ${quoted([catalogName, schemaName])} cannot be found. Verify the spelling and correctness of the schema and catalog.`, '42704');
    return { catalog, schema };
  }

  private table(name: readonly string[], namespace: SessionNamespace): { catalog: EmulatedCatalog; table: EmulatedTable } {
    if (name.length < 1 || name.length > 3) throw new DatabricksSqlError('INVALID_IDENTIFIER', `${quoted(name)} is not a valid table name.`, '42602');
    const full = [...[namespace.catalog, namespace.schema].slice(0, 3 - name.length), ...name];
    const { catalog, schema } = this.schema(full.slice(0, 2), namespace);
    const table = schema.tables.get((full[2] as string).toLowerCase());
    if (!table)
      throw new DatabricksSqlError(
        'TABLE_OR_VIEW_NOT_FOUND',
        `The table or view ${quoted(full)} cannot be found. Verify the spelling and correctness of the schema and catalog.`,
        '42P01',
      );
    return { catalog, table };
  }

  private column(target: Target, namespace: SessionNamespace): { catalog: EmulatedCatalog; table: EmulatedTable; column: EmulatedColumn } {
    const { catalog, table } = this.relation(target, namespace);
    refuseOnForeign(table, 'column comments or tags');
    const column = table.columns.get((target.column ?? '').toLowerCase());
    if (!column)
      throw new DatabricksSqlError('UNRESOLVED_COLUMN.WITHOUT_SUGGESTION', `A column, variable, or function parameter with name ${quoted([target.column ?? ''])} cannot be resolved.`, '42703');
    return { catalog, table, column };
  }

  /** The relation an ALTER TABLE/VIEW/... names; the keyword must fit its kind. */
  private relation(target: Target, namespace: SessionNamespace): { catalog: EmulatedCatalog; table: EmulatedTable } {
    const found = this.table(target.name, namespace);
    const expected: Record<string, TableType[]> = {
      TABLE: ['MANAGED', 'EXTERNAL', 'FOREIGN'],
      VIEW: ['VIEW'],
      'MATERIALIZED VIEW': ['MATERIALIZED_VIEW'],
      'STREAMING TABLE': ['STREAMING_TABLE'],
      'COLUMN OF': ['MANAGED', 'EXTERNAL', 'VIEW', 'MATERIALIZED_VIEW', 'STREAMING_TABLE', 'FOREIGN'],
    };
    if (!expected[target.keyword]?.includes(found.table.type)) {
      const kind = found.table.type.toLowerCase().replace('_', ' ');
      throw new DatabricksSqlError(
        target.keyword === 'VIEW' ? 'EXPECT_VIEW_NOT_TABLE.NO_ALTERNATIVE' : 'EXPECT_TABLE_NOT_VIEW.NO_ALTERNATIVE',
        `'ALTER ${target.keyword}' expects a ${target.keyword.toLowerCase()}, but ${quoted(target.name)} is a ${kind}.`,
        '42809',
      );
    }
    return found;
  }

  private securable(target: Target, namespace: SessionNamespace, what: string): Securable {
    const { catalog, object } =
      target.keyword === 'CATALOG'
        ? { catalog: this.catalogOf(target.name), object: undefined }
        : target.keyword === 'SCHEMA'
          ? (() => {
              const found = this.schema(target.name, namespace);
              return { catalog: found.catalog, object: found.schema as Securable };
            })()
          : (() => {
              const found = this.relation(target, namespace);
              return { catalog: found.catalog, object: found.table as Securable };
            })();
    if (!catalog.unity) throw notInUnityCatalog(what);
    return object ?? catalog;
  }

  private catalogOf(name: readonly string[]): EmulatedCatalog {
    if (name.length !== 1) throw new DatabricksSqlError('INVALID_IDENTIFIER', `${quoted(name)} is not a valid catalog name.`, '42602');
    return this.catalog(name[0] as string);
  }

  private tagsOf(target: Target, namespace: SessionNamespace): Map<string, string> {
    if (target.column !== undefined) {
      const { catalog, column } = this.column(target, namespace);
      if (!catalog.unity) throw notInUnityCatalog('SET TAGS');
      return column.tags;
    }
    const securable = this.securable(target, namespace, 'SET TAGS');
    if ('type' in securable) refuseOnForeign(securable as EmulatedTable, 'tags');
    return securable.tags;
  }

  private comment(on: 'CATALOG' | 'SCHEMA' | 'TABLE' | 'COLUMN', name: string[], value: string | null, namespace: SessionNamespace): void {
    if (on === 'CATALOG') {
      const catalog = this.catalogOf(name);
      if (!catalog.unity) throw notInUnityCatalog('COMMENT ON CATALOG');
      catalog.comment = value;
    } else if (on === 'SCHEMA') this.schema(name, namespace).schema.comment = value;
    else if (on === 'TABLE') {
      const { table } = this.table(name, namespace);
      refuseOnForeign(table, 'COMMENT ON TABLE');
      table.comment = value;
    } else {
      const column = name.pop() ?? '';
      const { table } = this.table(name, namespace);
      refuseOnForeign(table, 'COMMENT ON COLUMN');
      const found = table.columns.get(column.toLowerCase());
      if (!found) throw new DatabricksSqlError('UNRESOLVED_COLUMN.WITHOUT_SUGGESTION', `A column, variable, or function parameter with name ${quoted([column])} cannot be resolved.`, '42703');
      found.comment = value;
    }
  }

  // --- information_schema ----------------------------------------------------------------

  /** A catalog SELECT, evaluated by the emulator kit over the information_schema views. */
  private select(query: Query, namespace: SessionNamespace): ResultSet {
    const types = new Map<string, ColumnType>();
    let relation: Relation;
    try {
      relation = evaluateQuery(query, {
        resolve: (source) => {
          const { view, rows } = this.view(source, namespace);
          for (const [name, type] of view.columns) types.set(name, type);
          return { columns: view.columns.map(([name]) => name), rows };
        },
        unknownColumn: (name) => new EngineError('UNRESOLVED_COLUMN.WITH_SUGGESTION', '42703', `A column, variable, or function parameter with name \`${name}\` cannot be resolved.`),
      });
    } catch (error) {
      throw error instanceof EngineError ? new DatabricksSqlError(error.code, error.message, error.sqlState) : error;
    }
    return {
      columns: relation.columns.map((name) => ({ name, type: types.get(name) ?? 'STRING' })),
      rows: relation.rows.map((row) => row.map((value) => (typeof value === 'boolean' ? String(value) : value))),
    };
  }

  /** The rows of an information_schema view: system.* spans the Unity Catalog catalogs, <catalog>.* one. */
  private view(source: Source, namespace: SessionNamespace): { view: View; rows: CellValue[][] } {
    const from = source.name.map((part) => part.toLowerCase());
    const full = from.length === 2 ? [namespace.catalog.toLowerCase(), ...from] : from;
    const view = full.length === 3 && full[1] === 'information_schema' && source.kind === 'table' ? VIEWS[full[2] as string] : undefined;
    const notFound = () =>
      new DatabricksSqlError('TABLE_OR_VIEW_NOT_FOUND', `The table or view ${quoted(source.name)} cannot be found. Verify the spelling and correctness of the schema and catalog.`, '42P01');
    if (!view) throw notFound();
    let catalogs: EmulatedCatalog[];
    if (full[0] === 'system') catalogs = [...this.account.catalogs.values()].filter((catalog) => catalog.unity);
    else {
      const catalog = this.catalog(full[0] as string);
      if (!catalog.unity) throw notFound();
      catalogs = [catalog];
    }
    const rows: CellValue[][] = [];
    for (const catalog of catalogs) for (const row of view.rows(catalog)) rows.push(row);
    return { view, rows };
  }
}

function notInUnityCatalog(what: string): DatabricksSqlError {
  return new DatabricksSqlError('UC_NOT_ENABLED', `${what} needs Unity Catalog; the hive_metastore catalog does not support it.`, '56038');
}

function checkTag(key: string, value: string): void {
  if (key.length === 0 || key.length > TAG_LIMITS.keyLength)
    throw new DatabricksSqlError('INVALID_PARAMETER_VALUE.INVALID_TAG_KEY', `Tag key must be 1 to ${TAG_LIMITS.keyLength} characters long, got ${key.length}.`, '22023');
  if (TAG_LIMITS.keyForbidden.test(key))
    throw new DatabricksSqlError('INVALID_PARAMETER_VALUE.INVALID_TAG_KEY', `Tag key ${key} contains a character that is not allowed (. , - = / :).`, '22023');
  if (value.length > TAG_LIMITS.valueLength)
    throw new DatabricksSqlError('INVALID_PARAMETER_VALUE.INVALID_TAG_VALUE', `Tag value must be at most ${TAG_LIMITS.valueLength} characters long, got ${value.length}.`, '22023');
}

interface View {
  columns: [string, ColumnType][];
  rows(catalog: EmulatedCatalog): Iterable<CellValue[]>;
}

function* tablesOf(catalog: EmulatedCatalog): Iterable<[EmulatedSchema, EmulatedTable]> {
  for (const schema of catalog.schemas.values()) for (const table of schema.tables.values()) yield [schema, table];
}

const VIEWS: Record<string, View> = {
  catalogs: {
    columns: [
      ['catalog_name', 'STRING'],
      ['catalog_owner', 'STRING'],
      ['comment', 'STRING'],
    ],
    *rows(catalog) {
      yield [catalog.name, catalog.owner, catalog.comment];
    },
  },
  schemata: {
    columns: [
      ['catalog_name', 'STRING'],
      ['schema_name', 'STRING'],
      ['schema_owner', 'STRING'],
      ['comment', 'STRING'],
    ],
    *rows(catalog) {
      for (const schema of catalog.schemas.values()) yield [catalog.name, schema.name, schema.owner, schema.comment];
    },
  },
  tables: {
    columns: [
      ['table_catalog', 'STRING'],
      ['table_schema', 'STRING'],
      ['table_name', 'STRING'],
      ['table_type', 'STRING'],
      ['table_owner', 'STRING'],
      ['comment', 'STRING'],
    ],
    *rows(catalog) {
      for (const [schema, table] of tablesOf(catalog)) yield [catalog.name, schema.name, table.name, table.type, table.owner, table.comment];
    },
  },
  columns: {
    columns: [
      ['table_catalog', 'STRING'],
      ['table_schema', 'STRING'],
      ['table_name', 'STRING'],
      ['column_name', 'STRING'],
      ['ordinal_position', 'INT'],
      ['data_type', 'STRING'],
      ['comment', 'STRING'],
    ],
    *rows(catalog) {
      for (const [schema, table] of tablesOf(catalog)) {
        let position = 0;
        for (const column of table.columns.values()) yield [catalog.name, schema.name, table.name, column.name, position++, column.dataType, column.comment];
      }
    },
  },
  catalog_tags: {
    columns: [
      ['catalog_name', 'STRING'],
      ['tag_name', 'STRING'],
      ['tag_value', 'STRING'],
    ],
    *rows(catalog) {
      for (const [key, value] of catalog.tags) yield [catalog.name, key, value];
    },
  },
  schema_tags: {
    columns: [
      ['catalog_name', 'STRING'],
      ['schema_name', 'STRING'],
      ['tag_name', 'STRING'],
      ['tag_value', 'STRING'],
    ],
    *rows(catalog) {
      for (const schema of catalog.schemas.values()) for (const [key, value] of schema.tags) yield [catalog.name, schema.name, key, value];
    },
  },
  table_tags: {
    columns: [
      ['catalog_name', 'STRING'],
      ['schema_name', 'STRING'],
      ['table_name', 'STRING'],
      ['tag_name', 'STRING'],
      ['tag_value', 'STRING'],
    ],
    *rows(catalog) {
      for (const [schema, table] of tablesOf(catalog)) for (const [key, value] of table.tags) yield [catalog.name, schema.name, table.name, key, value];
    },
  },
  column_tags: {
    columns: [
      ['catalog_name', 'STRING'],
      ['schema_name', 'STRING'],
      ['table_name', 'STRING'],
      ['column_name', 'STRING'],
      ['tag_name', 'STRING'],
      ['tag_value', 'STRING'],
    ],
    *rows(catalog) {
      for (const [schema, table] of tablesOf(catalog))
        for (const column of table.columns.values()) for (const [key, value] of column.tags) yield [catalog.name, schema.name, table.name, column.name, key, value];
    },
  },
};
