/**
 * The Glue Data Catalog as Athena shows it, and the Hive DDL it accepts. The caller-facing
 * statement is ALTER TABLE ... SET TBLPROPERTIES
 * (https://docs.aws.amazon.com/athena/latest/ug/alter-table-set-tblproperties.html); the fixtures
 * an administrator runs add CREATE DATABASE, CREATE EXTERNAL TABLE, CREATE VIEW, DROP TABLE and
 * SHOW TABLES (https://docs.aws.amazon.com/athena/latest/ug/ddl-reference.html).
 */
import { EngineError, TokenStream, type Token } from '../kit/tokens.js';
import { parseError, tokenize } from './lexer.js';

export interface GlueColumn {
  Name: string;
  Type: string;
  Comment?: string;
}

export interface GlueTable {
  Name: string;
  /** EXTERNAL_TABLE, or VIRTUAL_VIEW for a view (https://docs.aws.amazon.com/athena/latest/ug/views.html). */
  TableType: string;
  CreateTime: number;
  Columns: GlueColumn[];
  PartitionKeys: GlueColumn[];
  Parameters: Record<string, string>;
  /** Glue keeps a version per update (UpdateTable's VersionId); bumped by every change. */
  version: number;
}

export interface GlueDatabase {
  Name: string;
  Description?: string;
  tables: Map<string, GlueTable>;
}

export interface DataCatalog {
  CatalogName: string;
  Type: 'GLUE' | 'LAMBDA' | 'HIVE' | 'FEDERATED';
  databases: Map<string, GlueDatabase>;
}

/** What one statement needs from IAM, and what it did. */
export interface StatementPlan {
  statementType: 'DDL' | 'DML' | 'UTILITY';
  /** Glue actions the statement performs, checked against the caller's policy when it runs. */
  glueActions: { action: string; resource: string }[];
  /** Runs the statement (after the permission check): rows for SHOW, nothing for DDL. */
  run(): { columns: string[]; rows: string[][] };
}

export class AthenaCatalogs {
  readonly catalogs = new Map<string, DataCatalog>();
  now = () => Math.floor(Date.now() / 1000);

  constructor(
    readonly region = 'us-east-1',
    readonly account = '123456789012',
  ) {
    this.addCatalog('awsdatacatalog', 'GLUE');
  }

  addCatalog(name: string, type: DataCatalog['Type'] = 'GLUE'): DataCatalog {
    const catalog: DataCatalog = { CatalogName: name, Type: type, databases: new Map() };
    this.catalogs.set(name, catalog);
    return catalog;
  }

  catalog(name: string): DataCatalog {
    const catalog = this.catalogs.get(name.toLowerCase());
    if (!catalog) throw new EngineError('MetadataException', '', `Catalog ${name} not found`);
    return catalog;
  }

  database(catalog: string, name: string): GlueDatabase {
    const database = this.catalog(catalog).databases.get(name.toLowerCase());
    if (!database) throw new EngineError('MetadataException', '', `Database ${name} not found in catalog ${catalog}`);
    return database;
  }

  table(catalog: string, database: string, name: string): GlueTable {
    const table = this.database(catalog, database).tables.get(name.toLowerCase());
    if (!table) throw new EngineError('MetadataException', '', `Table ${name} not found in database ${database}`);
    return table;
  }

  /** Adds a database directly (large fixtures, the bench). */
  addDatabase(catalog: string, name: string, description?: string): GlueDatabase {
    const database: GlueDatabase = { Name: name.toLowerCase(), ...(description === undefined ? {} : { Description: description }), tables: new Map() };
    this.catalog(catalog).databases.set(database.Name, database);
    return database;
  }

  /** Adds a table directly, with the parameters Athena's CREATE EXTERNAL TABLE leaves. */
  addTable(database: GlueDatabase, name: string, columns: GlueColumn[], options: { view?: boolean; parameters?: Record<string, string>; partitionKeys?: GlueColumn[] } = {}): GlueTable {
    const table: GlueTable = {
      Name: name.toLowerCase(),
      TableType: options.view ? 'VIRTUAL_VIEW' : 'EXTERNAL_TABLE',
      CreateTime: this.now(),
      Columns: columns,
      PartitionKeys: options.partitionKeys ?? [],
      Parameters: options.view ? { presto_view: 'true', comment: 'Presto View' } : { EXTERNAL: 'TRUE', ...options.parameters },
      version: 1,
    };
    database.tables.set(table.Name, table);
    return table;
  }

  private tableArn(database: string, table: string): string {
    return `arn:aws:glue:${this.region}:${this.account}:table/${database}/${table}`;
  }

  /** Parses one statement in `catalog`; a syntax error is thrown here (StartQueryExecution answers it at once). */
  plan(sql: string, catalog: string, currentDatabase: string, admin: boolean): StatementPlan {
    const stream = new TokenStream(tokenize(sql), (token, expected) => syntaxError(sql, token, expected));
    const name = (): [string, string] => {
      const parts = stream.qualifiedName();
      if (parts.length > 2) throw parseError(sql, stream.peek().pos, `mismatched input '.'. Expecting: <EOF>`);
      return parts.length === 2 ? [parts[0] as string, parts[1] as string] : [currentDatabase, parts[0] as string];
    };
    if (stream.acceptKeyword('ALTER', 'TABLE')) {
      const [database, table] = name();
      stream.expectKeyword('SET', 'TBLPROPERTIES');
      const properties = this.propertyList(stream);
      stream.expectEnd();
      return {
        statementType: 'DDL',
        glueActions: [
          { action: 'glue:GetTable', resource: this.tableArn(database, table) },
          { action: 'glue:UpdateTable', resource: this.tableArn(database, table) },
        ],
        run: () => {
          const target = this.table(catalog, database, table);
          if (target.TableType === 'VIRTUAL_VIEW') throw new EngineError('FAILED', '', `FAILED: SemanticException [Error 10131]: To alter a view you need to use the ALTER VIEW command.`);
          // "If property_name already exists, its value is set to the newly specified property_value."
          Object.assign(target.Parameters, properties);
          target.version++;
          return { columns: [], rows: [] };
        },
      };
    }
    if (stream.acceptKeyword('SHOW', 'TABLES')) {
      const database = stream.acceptKeyword('IN') ? stream.expectIdentifier().value : currentDatabase;
      stream.expectEnd();
      return {
        statementType: 'DDL',
        glueActions: [{ action: 'glue:GetTables', resource: `arn:aws:glue:${this.region}:${this.account}:database/${database}` }],
        run: () => ({ columns: ['tab_name'], rows: [...this.database(catalog, database).tables.keys()].sort().map((table) => [table]) }),
      };
    }
    if (!admin) throw syntaxError(sql, stream.peek(), "'ALTER', 'SHOW'");
    return this.fixture(sql, stream, catalog, name);
  }

  /** ('k' = 'v', ...): both sides StringLiterals. */
  private propertyList(stream: TokenStream): Record<string, string> {
    const properties: Record<string, string> = {};
    stream.expectSymbol('(');
    do {
      const key = stream.expectString();
      stream.expectSymbol('=');
      properties[key] = stream.expectString();
    } while (stream.acceptSymbol(','));
    stream.expectSymbol(')');
    return properties;
  }

  /** Administrator fixtures: CREATE DATABASE / EXTERNAL TABLE / VIEW, DROP TABLE. */
  private fixture(sql: string, stream: TokenStream, catalog: string, name: () => [string, string]): StatementPlan {
    const done = (run: () => void): StatementPlan => ({ statementType: 'DDL', glueActions: [], run: () => (run(), { columns: [], rows: [] }) });
    if (stream.acceptKeyword('CREATE', 'DATABASE') || stream.acceptKeyword('CREATE', 'SCHEMA')) {
      const ifNotExists = stream.acceptKeyword('IF', 'NOT', 'EXISTS');
      const database = stream.expectIdentifier().value;
      const description = stream.acceptKeyword('COMMENT') ? stream.expectString() : undefined;
      stream.expectEnd();
      return done(() => {
        if (this.catalog(catalog).databases.has(database)) {
          if (ifNotExists) return;
          throw new EngineError('FAILED', '', `FAILED: Execution Error, return code 1 from org.apache.hadoop.hive.ql.exec.DDLTask. Database ${database} already exists`);
        }
        this.addDatabase(catalog, database, description);
      });
    }
    if (stream.acceptKeyword('CREATE', 'EXTERNAL', 'TABLE') || stream.acceptKeyword('CREATE', 'TABLE')) {
      stream.acceptKeyword('IF', 'NOT', 'EXISTS');
      const [database, table] = name();
      const columns = this.columnList(stream);
      const parameters: Record<string, string> = {};
      let partitionKeys: GlueColumn[] = [];
      for (;;) {
        if (stream.acceptKeyword('COMMENT')) parameters['comment'] = stream.expectString();
        else if (stream.acceptKeyword('PARTITIONED', 'BY')) partitionKeys = this.columnList(stream);
        else if (stream.acceptKeyword('STORED', 'AS')) parameters['classification'] = stream.expectIdentifier().value;
        else if (stream.acceptKeyword('LOCATION')) stream.expectString();
        else if (stream.acceptKeyword('TBLPROPERTIES')) Object.assign(parameters, this.propertyList(stream));
        else break;
      }
      stream.expectEnd();
      return done(() => {
        this.addTable(this.database(catalog, database), table, columns, { parameters, partitionKeys });
      });
    }
    if (stream.acceptKeyword('CREATE', 'VIEW') || stream.acceptKeyword('CREATE', 'OR', 'REPLACE', 'VIEW')) {
      const [database, view] = name();
      stream.expectKeyword('AS');
      // The query is Trino SQL, not parsed here: the view's one column is named by the fixture's AS list.
      return done(() => {
        this.addTable(this.database(catalog, database), view, [{ Name: 'value', Type: 'varchar' }], { view: true });
      });
    }
    if (stream.acceptKeyword('DROP', 'TABLE')) {
      const ifExists = stream.acceptKeyword('IF', 'EXISTS');
      const [database, table] = name();
      stream.expectEnd();
      return done(() => {
        if (!this.database(catalog, database).tables.delete(table) && !ifExists) this.table(catalog, database, table);
      });
    }
    throw syntaxError(sql, stream.peek(), "'ALTER', 'CREATE', 'DROP', 'SHOW'");
  }

  /** (name type [COMMENT 'x'], ...): a type is its tokens up to the next top-level , ) or COMMENT. */
  private columnList(stream: TokenStream): GlueColumn[] {
    const columns: GlueColumn[] = [];
    stream.expectSymbol('(');
    do {
      const columnName = stream.expectIdentifier().value;
      let type = '';
      let depth = 0;
      for (;;) {
        const token = stream.peek();
        if (token.kind === 'end') throw stream.fail("')'");
        if (depth === 0 && ((token.kind === 'symbol' && (token.value === ',' || token.value === ')')) || stream.isKeyword('COMMENT'))) break;
        if (token.kind === 'symbol' && (token.value === '<' || token.value === '(')) depth++;
        if (token.kind === 'symbol' && (token.value === '>' || token.value === ')')) depth--;
        type += token.value;
        stream.next();
      }
      const column: GlueColumn = { Name: columnName, Type: type };
      if (stream.acceptKeyword('COMMENT')) column.Comment = stream.expectString();
      columns.push(column);
    } while (stream.acceptSymbol(','));
    stream.expectSymbol(')');
    return columns;
  }
}

function syntaxError(sql: string, token: Token, expected?: string): EngineError {
  const near = token.kind === 'end' ? '<EOF>' : token.kind === 'string' ? `'${sql.slice(token.pos, token.pos + 10)}` : token.value;
  return parseError(sql, token.pos, `mismatched input '${near}'.${expected ? ` Expecting: ${expected}` : ''}`);
}
