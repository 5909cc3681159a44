/**
 * The statements an emulated Snowflake account accepts, each parsed in full by Snowflake's
 * documented grammar before it acts (a statement that fails to parse changes nothing), and the
 * catalog views and table functions its SELECTs read, evaluated over the in-memory catalog.
 */
import { Catalog, tagKey, type CatalogNode, type DatabaseNode, type SchemaNode, type TableNode, type TagObject } from '../kit/catalog.js';
import { evaluateQuery, parseQuery, type Relation, type Source, type Value } from '../kit/select.js';
import { EngineError, TokenStream, type Token } from '../kit/tokens.js';
import { lex, syntaxError } from './lexer.js';

export interface SessionContext {
  user: string;
  role: string;
  database: string | null;
  schema: string | null;
  /** The session's warehouse (the connection's, or the user's default); undefined or null: none. */
  warehouse?: string | null;
  /** ALTER SESSION SET QUOTED_IDENTIFIERS_IGNORE_CASE; undefined: the account's value. */
  quotedIdentifiersIgnoreCase?: boolean;
}

export interface StatementResult extends Relation {
  /** Snowflake's statement type id: 0x1000 SELECT, 0x6000 and above DDL. */
  statementTypeId: number;
}

/** Documented limits: 50 unique tags per object, 256 characters per tag value. */
export const MAX_TAGS_PER_OBJECT = 50;
export const MAX_TAG_VALUE_LENGTH = 256;

const DDL = 0x6000;
const SELECT = 0x1000;

const notExists = (kind: string, name: string) => new EngineError('002003', '02000', `SQL compilation error:\n${kind} '${name}' does not exist or not authorized.`);
const alreadyExists = (kind: string, name: string) => new EngineError('002002', '42710', `SQL compilation error:\nObject '${name}' already exists.`);
const insufficient = (kind: string, name: string) =>
  new EngineError('003001', '42501', `SQL access control error:\nInsufficient privileges to operate on ${kind.toLowerCase()} '${name}'`);

/**
 * COMMENT ON TABLE and ALTER TABLE on an Iceberg table, as the service answers them (the error
 * quoted in dbt-labs/dbt-adapters#1015 and #770): Iceberg tables take ALTER ICEBERG TABLE.
 */
const icebergNeedsOwnCommand = (name: string) =>
  new EngineError('091367', '42601', `SQL Compilation error: The table ${name} is an Iceberg table. Iceberg tables should use ALTER ICEBERG TABLE commands. Please ensure the appropriate command format is used.`);

const done = (message = 'Statement executed successfully.'): StatementResult => ({ columns: ['status'], rows: [[message]], statementTypeId: DDL });

type Domain = 'DATABASE' | 'SCHEMA' | 'TABLE' | 'COLUMN';

interface TagReferenceRow {
  tag: TagObject;
  value: string;
  level: Domain;
  domain: Domain;
  path: string[];
  applyMethod: string;
}

/**
 * How a tag came to be on an object: the APPLY_METHOD column that BCR 1777 (2024_08) appended
 * to ACCOUNT_USAGE.TAG_REFERENCES and the TAG_REFERENCES table functions. MANUAL for SET TAG;
 * CLASSIFIED for the system tags automatic classification and SYSTEM$CLASSIFY set
 * (docs.snowflake.com/en/user-guide/classify-intro); PROPAGATED for tags automatic propagation
 * copies (docs.snowflake.com/en/user-guide/object-tagging/propagation).
 */
export type ApplyMethod = 'MANUAL' | 'CLASSIFIED' | 'PROPAGATED';

export class SnowflakeEngine {
  readonly catalog = new Catalog();
  /** Every statement executed, in order (tests assert what reached the account). */
  readonly statements: string[] = [];
  /** When set, ACCOUNT_USAGE.TAG_REFERENCES answers from this copy: the view's lag, made explicit. */
  private frozenTagReferences: TagReferenceRow[] | undefined;
  /** Roles granted IMPORTED PRIVILEGES on the SNOWFLAKE database, besides ACCOUNTADMIN. */
  private readonly accountUsageRoles = new Set<string>();
  /**
   * An INFORMATION_SCHEMA query whose answer would pass this many rows fails with 090030, as a
   * large account's database-wide COLUMNS query does (dbt-labs/dbt-core#1877, #2260; the limit
   * itself is not documented, so it is a test's choice). Undefined: no limit.
   */
  informationSchemaRowLimit: number | undefined;
  /**
   * A SELECT over a view or table function needs a running warehouse; SHOW and DDL do not
   * (docs.snowflake.com/en/user-guide/warehouses-overview: "A warehouse provides the required
   * resources ... to execute SELECT statements"). Off unless a test turns it on, since the
   * administrator's fixtures run without one.
   */
  requireWarehouse = false;
  /** The account's QUOTED_IDENTIFIERS_IGNORE_CASE (default FALSE), set by ALTER ACCOUNT. */
  quotedIdentifiersIgnoreCase = false;
  /** Per node, tag key -> how it was applied; absent is MANUAL. */
  private readonly applyMethods = new WeakMap<CatalogNode, Map<string, ApplyMethod>>();

  constructor() {
    for (const role of ['ACCOUNTADMIN', 'SYSADMIN', 'PUBLIC']) this.catalog.roles.add(role);
  }

  /** ACCOUNT_USAGE lags the account by up to two hours: from now on it shows the present state. */
  freezeAccountUsage(): void {
    this.frozenTagReferences = this.directTagReferences();
  }

  thawAccountUsage(): void {
    this.frozenTagReferences = undefined;
  }

  private applyMethodOf(node: CatalogNode, key: string): ApplyMethod {
    return this.applyMethods.get(node)?.get(key) ?? 'MANUAL';
  }

  /**
   * What classification leaves on a column: the system tags SNOWFLAKE.CORE.PRIVACY_CATEGORY and
   * SNOWFLAKE.CORE.SEMANTIC_CATEGORY, applied by the engine (docs.snowflake.com/en/user-guide/
   * classify-intro, "System tags and categories"). The SNOWFLAKE database holds them.
   */
  classify(path: [string, string, string], column: string, categories: { privacy: string; semantic: string }): void {
    let database = this.catalog.databases.get('SNOWFLAKE');
    if (!database) database = this.catalog.addDatabase('SNOWFLAKE', 'SNOWFLAKE');
    const core = database.schemas.get('CORE') ?? this.catalog.addSchema(database, 'CORE', 'SNOWFLAKE');
    const node = this.table(path, undefined, 'Table').columns.get(column);
    if (!node) throw new EngineError('000904', '42000', `SQL compilation error:\ninvalid identifier '${column}'`);
    for (const [name, value] of [['PRIVACY_CATEGORY', categories.privacy], ['SEMANTIC_CATEGORY', categories.semantic]] as const) {
      let tag = core.tagObjects.get(name);
      if (!tag) core.tagObjects.set(name, (tag = { database: 'SNOWFLAKE', schema: 'CORE', name, allowedValues: null, comment: null, owner: 'SNOWFLAKE' }));
      this.assignByEngine(node, tag, value, 'CLASSIFIED');
    }
  }

  /** A tag that automatic propagation copied onto an object (or column) from its source. */
  propagate(node: CatalogNode, tagPath: [string, string, string], value: string): void {
    const tag = this.catalog.databases.get(tagPath[0])?.schemas.get(tagPath[1])?.tagObjects.get(tagPath[2]);
    if (!tag) throw notExists('Tag', tagPath.join('.'));
    this.assignByEngine(node, tag, value, 'PROPAGATED');
  }

  private assignByEngine(node: CatalogNode, tag: TagObject, value: string, method: ApplyMethod): void {
    node.tags.set(tagKey(tag), { tag, value });
    let methods = this.applyMethods.get(node);
    if (!methods) this.applyMethods.set(node, (methods = new Map()));
    methods.set(tagKey(tag), method);
  }

  execute(sql: string, session: SessionContext): StatementResult {
    const tokens = lex(sql, session.quotedIdentifiersIgnoreCase ?? this.quotedIdentifiersIgnoreCase);
    const stream = new TokenStream(tokens, (token: Token, expected?: string) => {
      void expected;
      return syntaxError(sql, token.pos, token.kind === 'end' ? '' : sql.slice(token.pos, token.pos + Math.max(1, String(token.value).length)).split(/\s/)[0] ?? '');
    });
    const action = this.parse(stream, session);
    stream.expectEnd();
    this.statements.push(sql);
    return action();
  }

  private parse(stream: TokenStream, session: SessionContext): () => StatementResult {
    if (stream.isKeyword('SELECT')) {
      const query = parseQuery(stream);
      return () => {
        let informationSchema = false;
        const relation = evaluateQuery(query, {
          resolve: (source, args) => {
            if (this.requireWarehouse && !session.warehouse)
              throw new EngineError('000606', '57P03', "No active warehouse selected in the current session.  Select an active warehouse with the 'use warehouse' command.");
            informationSchema ||= source.kind !== 'function' && source.name.includes('INFORMATION_SCHEMA');
            return this.resolveSource(source, args, session);
          },
          unknownColumn: (name) => new EngineError('000904', '42000', `SQL compilation error: error line 1 at position 0\ninvalid identifier '${name}'`),
        });
        if (informationSchema && this.informationSchemaRowLimit !== undefined && relation.rows.length > this.informationSchemaRowLimit)
          throw new EngineError('090030', '57014', 'Information schema query returned too much data. Please repeat query with more selective predicates.');
        return { ...relation, statementTypeId: SELECT };
      };
    }
    if (stream.acceptKeyword('SHOW')) return this.parseShow(stream, session);
    if (stream.acceptKeyword('CREATE')) return this.parseCreate(stream, session);
    if (stream.acceptKeyword('COMMENT')) return this.parseComment(stream, session);
    if (stream.acceptKeyword('ALTER')) return this.parseAlter(stream, session);
    if (stream.acceptKeyword('GRANT')) return this.parseGrant(stream, session);
    if (stream.acceptKeyword('USE')) {
      if (stream.acceptKeyword('ROLE')) {
        const role = stream.expectIdentifier().value;
        return () => {
          if (!this.catalog.roles.has(role)) throw notExists('Role', role);
          session.role = role;
          return done();
        };
      }
      stream.acceptKeyword('DATABASE');
      const name = stream.qualifiedName();
      return () => {
        const [database, schema] = name;
        this.database(database ?? '');
        session.database = database ?? null;
        if (schema !== undefined) this.schema([database ?? '', schema]);
        session.schema = schema ?? null;
        return done();
      };
    }
    if (stream.isKeyword('PUT') || stream.isKeyword('GET')) throw new EngineError('000002', '0A000', 'Unsupported feature: the emulator does not stage files.');
    throw stream.fail();
  }

  // ---------------------------------------------------------------- name resolution

  private database(name: string): DatabaseNode {
    const database = this.catalog.databases.get(name);
    if (!database) throw notExists('Database', name);
    return database;
  }

  /** [db, schema] from a 1- or 2-part name, in the session's database. */
  private schemaPath(parts: string[], session?: SessionContext): [string, string] {
    if (parts.length === 2) return [parts[0] as string, parts[1] as string];
    if (parts.length === 1 && session?.database) return [session.database, parts[0] as string];
    throw new EngineError('090105', '22000', 'Cannot perform operation. This session does not have a current database. Call \'USE DATABASE\', or use a qualified name.');
  }

  private schema(path: [string, string]): SchemaNode {
    const schema = this.catalog.databases.get(path[0])?.schemas.get(path[1]);
    if (!schema) throw notExists('Schema', path.join('.'));
    return schema;
  }

  /** [db, schema, name] from a 1- to 3-part name, in the session's database and schema. */
  private objectPath(parts: string[], session: SessionContext): [string, string, string] {
    if (parts.length === 3) return parts as [string, string, string];
    if (parts.length === 2 && session.database) return [session.database, parts[0] as string, parts[1] as string];
    if (parts.length === 1 && session.database && session.schema) return [session.database, session.schema, parts[0] as string];
    throw new EngineError('090106', '22000', 'Cannot perform operation. This session does not have a current schema. Call \'USE SCHEMA\', or use a qualified name.');
  }

  private table(path: [string, string, string], kinds: readonly string[] | undefined, label: string): TableNode {
    const table = this.catalog.databases.get(path[0])?.schemas.get(path[1])?.tables.get(path[2]);
    if (!table || (kinds && !kinds.includes(table.kind))) throw notExists(label, path.join('.'));
    return table;
  }

  private tagObject(parts: string[], session: SessionContext): TagObject {
    const path = this.objectPath(parts, session);
    const tag = this.catalog.databases.get(path[0])?.schemas.get(path[1])?.tagObjects.get(path[2]);
    if (!tag) throw notExists('Tag', path.join('.'));
    return tag;
  }

  private checkOwner(node: CatalogNode, kind: string, name: string, session: SessionContext): void {
    if (session.role !== 'ACCOUNTADMIN' && node.owner !== session.role) throw insufficient(kind, name);
  }

  // ---------------------------------------------------------------- SHOW

  private parseShow(stream: TokenStream, session: SessionContext): () => StatementResult {
    stream.expectKeyword('TAGS');
    let like: string | undefined;
    if (stream.acceptKeyword('LIKE')) like = stream.expectString();
    let scope: { kind: 'account' } | { kind: 'database'; name: string } | { kind: 'schema'; parts: string[] } = { kind: 'account' };
    if (stream.acceptKeyword('IN')) {
      if (stream.acceptKeyword('ACCOUNT')) scope = { kind: 'account' };
      else if (stream.acceptKeyword('DATABASE')) scope = { kind: 'database', name: stream.expectIdentifier().value };
      else {
        stream.expectKeyword('SCHEMA');
        scope = { kind: 'schema', parts: stream.qualifiedName() };
      }
    }
    return () => {
      let tags: TagObject[];
      if (scope.kind === 'schema') tags = [...this.schema(this.schemaPath(scope.parts, session)).tagObjects.values()];
      else if (scope.kind === 'database') {
        const database = this.database(scope.name);
        tags = [...database.schemas.values()].flatMap((schema) => [...schema.tagObjects.values()]);
      } else tags = [...this.catalog.tagObjects()];
      const pattern = like === undefined ? undefined : new RegExp(`^${like.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replaceAll('%', '.*').replaceAll('_', '.')}$`, 'i');
      return {
        columns: ['created_on', 'name', 'database_name', 'schema_name', 'owner', 'comment', 'allowed_values', 'owner_role_type'],
        rows: tags
          .filter((tag) => !pattern || pattern.test(tag.name))
          .map((tag) => ['2026-01-01 00:00:00.000 +0000', tag.name, tag.database, tag.schema, tag.owner, tag.comment ?? '', tag.allowedValues ? JSON.stringify(tag.allowedValues) : null, 'ROLE']),
        statementTypeId: SELECT,
      };
    };
  }

  // ---------------------------------------------------------------- CREATE

  private parseCreate(stream: TokenStream, session: SessionContext): () => StatementResult {
    const orReplace = stream.acceptKeyword('OR', 'REPLACE');
    stream.acceptKeyword('TRANSIENT');
    if (stream.acceptKeyword('ROLE')) {
      const ifNotExists = stream.acceptKeyword('IF', 'NOT', 'EXISTS');
      const name = stream.expectIdentifier().value;
      return () => {
        if (this.catalog.roles.has(name) && !ifNotExists && !orReplace) throw alreadyExists('Role', name);
        this.catalog.roles.add(name);
        return done(`Role ${name} successfully created.`);
      };
    }
    if (stream.acceptKeyword('DATABASE')) {
      const ifNotExists = stream.acceptKeyword('IF', 'NOT', 'EXISTS');
      const name = stream.expectIdentifier().value;
      const comment = this.optionalCommentProperty(stream);
      return () => {
        if (this.catalog.databases.has(name) && !orReplace) {
          if (ifNotExists) return done();
          throw alreadyExists('Database', name);
        }
        const database = this.catalog.addDatabase(name, session.role);
        database.comment = comment ?? null;
        this.catalog.addSchema(database, 'PUBLIC', session.role);
        session.database = name;
        session.schema = 'PUBLIC';
        return done(`Database ${name} successfully created.`);
      };
    }
    if (stream.acceptKeyword('SCHEMA')) {
      const ifNotExists = stream.acceptKeyword('IF', 'NOT', 'EXISTS');
      const parts = stream.qualifiedName();
      const comment = this.optionalCommentProperty(stream);
      return () => {
        const [db, name] = this.schemaPath(parts, session);
        const database = this.database(db);
        if (database.schemas.has(name) && !orReplace) {
          if (ifNotExists) return done();
          throw alreadyExists('Schema', name);
        }
        this.catalog.addSchema(database, name, session.role).comment = comment ?? null;
        return done(`Schema ${name} successfully created.`);
      };
    }
    if (stream.acceptKeyword('TAG')) {
      const ifNotExists = stream.acceptKeyword('IF', 'NOT', 'EXISTS');
      const parts = stream.qualifiedName();
      let allowedValues: string[] | null = null;
      let comment: string | undefined;
      for (;;) {
        if (stream.acceptKeyword('ALLOWED_VALUES')) {
          allowedValues = [stream.expectString()];
          while (stream.acceptSymbol(',')) allowedValues.push(stream.expectString());
        } else if (stream.isKeyword('COMMENT')) comment = this.optionalCommentProperty(stream);
        else break;
      }
      return () => {
        const [db, schemaName, name] = this.objectPath(parts, session);
        const schema = this.schema([db, schemaName]);
        if (schema.tagObjects.has(name) && !orReplace) {
          if (ifNotExists) return done(`${name} already exists, statement succeeded.`);
          throw alreadyExists('Tag', name);
        }
        schema.tagObjects.set(name, { database: db, schema: schemaName, name, allowedValues, comment: comment ?? null, owner: session.role });
        return done(`Tag ${name} successfully created.`);
      };
    }
    const materialized = stream.acceptKeyword('MATERIALIZED');
    const dynamic = !materialized && stream.acceptKeyword('DYNAMIC');
    if (materialized || dynamic || stream.isKeyword('VIEW')) {
      stream.expectKeyword(dynamic ? 'TABLE' : 'VIEW');
      const ifNotExists = stream.acceptKeyword('IF', 'NOT', 'EXISTS');
      const parts = stream.qualifiedName();
      // A dynamic table's required properties: TARGET_LAG = '<lag>' | DOWNSTREAM, WAREHOUSE = <name>.
      if (dynamic) {
        stream.expectKeyword('TARGET_LAG');
        stream.expectSymbol('=');
        if (!stream.acceptKeyword('DOWNSTREAM')) stream.expectString();
        stream.expectKeyword('WAREHOUSE');
        stream.expectSymbol('=');
        stream.expectIdentifier();
      }
      let names: string[] | undefined;
      if (stream.acceptSymbol('(')) {
        names = [];
        do names.push(stream.expectIdentifier().value);
        while (stream.acceptSymbol(','));
        stream.expectSymbol(')');
      }
      const comment = this.optionalCommentProperty(stream);
      stream.expectKeyword('AS');
      const query = parseQuery(stream);
      return () => {
        const path = this.objectPath(parts, session);
        const schema = this.schema([path[0], path[1]]);
        if (schema.tables.has(path[2]) && !orReplace) {
          if (ifNotExists) return done();
          throw alreadyExists('View', path[2]);
        }
        const { columns } = evaluateQuery(query, {
          resolve: (source, args) => this.resolveSource(source, args, session),
          unknownColumn: (name) => new EngineError('000904', '42000', `SQL compilation error:\ninvalid identifier '${name}'`),
        });
        const kind = materialized ? 'MATERIALIZED VIEW' : dynamic ? 'DYNAMIC TABLE' : 'VIEW';
        const view = this.catalog.addTable(schema, path[2], kind, session.role, (names ?? columns).map((name) => ({ name, dataType: 'TEXT' })));
        view.comment = comment ?? null;
        return done(`View ${path[2]} successfully created.`);
      };
    }
    const external = stream.acceptKeyword('EXTERNAL');
    // CREATE ICEBERG TABLE: EXTERNAL_VOLUME, CATALOG and BASE_LOCATION may come from the account's
    // or database's defaults (docs.snowflake.com/en/sql-reference/sql/create-iceberg-table-snowflake);
    // the emulator keeps none of them.
    const iceberg = !external && stream.acceptKeyword('ICEBERG');
    stream.expectKeyword('TABLE');
    const ifNotExists = stream.acceptKeyword('IF', 'NOT', 'EXISTS');
    const parts = stream.qualifiedName();
    const columns: { name: string; dataType: string; comment?: string }[] = [];
    stream.expectSymbol('(');
    do {
      const name = stream.expectIdentifier().value;
      const type = stream.expectIdentifier().value;
      let dataType = type;
      if (stream.acceptSymbol('(')) {
        const sizes: string[] = [];
        do sizes.push(String(stream.next().value));
        while (stream.acceptSymbol(','));
        stream.expectSymbol(')');
        dataType += `(${sizes.join(',')})`;
      }
      const column: { name: string; dataType: string; comment?: string } = { name, dataType };
      if (stream.acceptKeyword('COMMENT')) column.comment = stream.expectString();
      columns.push(column);
    } while (stream.acceptSymbol(','));
    stream.expectSymbol(')');
    const comment = this.optionalCommentProperty(stream);
    return () => {
      const path = this.objectPath(parts, session);
      const schema = this.schema([path[0], path[1]]);
      if (schema.tables.has(path[2]) && !orReplace) {
        if (ifNotExists) return done();
        throw alreadyExists('Table', path[2]);
      }
      const table = this.catalog.addTable(schema, path[2], external ? 'EXTERNAL TABLE' : iceberg ? 'ICEBERG TABLE' : 'BASE TABLE', session.role, columns);
      table.comment = comment ?? null;
      for (const column of columns) if (column.comment !== undefined) (table.columns.get(column.name) as CatalogNode).comment = column.comment;
      return done(`Table ${path[2]} successfully created.`);
    };
  }

  /** `COMMENT = '...'` where a CREATE allows it. */
  private optionalCommentProperty(stream: TokenStream): string | undefined {
    if (!stream.acceptKeyword('COMMENT')) return undefined;
    stream.expectSymbol('=');
    return stream.expectString();
  }

  // ---------------------------------------------------------------- COMMENT ON

  private parseComment(stream: TokenStream, session: SessionContext): () => StatementResult {
    const ifExists = stream.acceptKeyword('IF', 'EXISTS');
    stream.expectKeyword('ON');
    const kind = this.objectKind(stream, true);
    const parts = stream.qualifiedName();
    stream.expectKeyword('IS');
    const text = stream.expectString();
    return () => {
      try {
        const { node, label, name, table } = this.resolveObject(kind, parts, session);
        if (table?.kind === 'ICEBERG TABLE') throw icebergNeedsOwnCommand(table.name);
        // A column has no owner of its own: COMMENT ON COLUMN needs OWNERSHIP of its table
        // (docs.snowflake.com/en/sql-reference/sql/comment, "Access control requirements").
        this.checkOwner(table ?? node, label, name, session);
        node.comment = text;
      } catch (error) {
        if (!(ifExists && error instanceof EngineError && error.code === '002003')) throw error;
      }
      return done();
    };
  }

  private objectKind(stream: TokenStream, withColumn: boolean): string {
    for (const kind of ['DATABASE', 'SCHEMA', 'TABLE', 'VIEW', 'COLUMN', 'TAG', 'DYNAMIC', 'EXTERNAL', 'ICEBERG', 'MATERIALIZED']) {
      if (kind === 'COLUMN' && !withColumn) continue;
      if (stream.acceptKeyword(kind)) {
        if (kind === 'MATERIALIZED') {
          stream.expectKeyword('VIEW');
          return 'MATERIALIZED VIEW';
        }
        if (kind === 'DYNAMIC' || kind === 'EXTERNAL' || kind === 'ICEBERG') {
          stream.expectKeyword('TABLE');
          return `${kind} TABLE`;
        }
        return kind;
      }
    }
    throw stream.fail('an object type');
  }

  /** The table kinds a statement's object type designates (a view is not a TABLE to COMMENT ON TABLE). */
  private static readonly TABLE_KINDS: Record<string, readonly string[]> = {
    TABLE: ['BASE TABLE', 'EXTERNAL TABLE', 'DYNAMIC TABLE', 'ICEBERG TABLE'],
    'ICEBERG TABLE': ['ICEBERG TABLE'],
    'DYNAMIC TABLE': ['DYNAMIC TABLE'],
    'EXTERNAL TABLE': ['EXTERNAL TABLE'],
    VIEW: ['VIEW', 'MATERIALIZED VIEW'],
    'MATERIALIZED VIEW': ['MATERIALIZED VIEW'],
  };

  private resolveObject(kind: string, parts: string[], session: SessionContext): { node: CatalogNode; label: string; name: string; table?: TableNode } {
    if (kind === 'DATABASE') {
      if (parts.length !== 1) throw notExists('Database', parts.join('.'));
      return { node: this.database(parts[0] as string), label: 'database', name: parts[0] as string };
    }
    if (kind === 'SCHEMA') {
      const path = this.schemaPath(parts, session);
      return { node: this.schema(path), label: 'schema', name: path.join('.') };
    }
    if (kind === 'TAG') {
      const tag = this.tagObject(parts, session);
      return { node: { name: tag.name, owner: tag.owner, tags: new Map(), get comment() { return tag.comment; }, set comment(value) { tag.comment = value; } }, label: 'tag', name: tag.name };
    }
    if (kind === 'COLUMN') {
      if (parts.length < 2) throw syntaxError('', 0, '');
      const column = parts[parts.length - 1] as string;
      const path = this.objectPath(parts.slice(0, -1), session);
      const table = this.table(path, undefined, 'Table');
      const node = table.columns.get(column);
      if (!node) throw new EngineError('000904', '42000', `SQL compilation error: error line 1 at position 0\ninvalid identifier '${column}'`);
      return { node, label: 'table', name: path.join('.'), table };
    }
    const path = this.objectPath(parts, session);
    const label = kind.includes('VIEW') ? 'View' : 'Table';
    const table = this.table(path, SnowflakeEngine.TABLE_KINDS[kind], label);
    return { node: table, label: label.toLowerCase(), name: path.join('.'), table };
  }

  // ---------------------------------------------------------------- ALTER

  private parseAlter(stream: TokenStream, session: SessionContext): () => StatementResult {
    const level = stream.acceptKeyword('SESSION') ? 'session' : stream.acceptKeyword('ACCOUNT') ? 'account' : undefined;
    if (level) {
      // The one parameter modelled: ALTER { SESSION | ACCOUNT } SET QUOTED_IDENTIFIERS_IGNORE_CASE = TRUE | FALSE.
      stream.expectKeyword('SET', 'QUOTED_IDENTIFIERS_IGNORE_CASE');
      stream.expectSymbol('=');
      const value = stream.acceptKeyword('TRUE') ? true : (stream.expectKeyword('FALSE'), false);
      return () => {
        if (level === 'account') {
          if (session.role !== 'ACCOUNTADMIN') throw insufficient('Account', 'account');
          this.quotedIdentifiersIgnoreCase = value;
        } else session.quotedIdentifiersIgnoreCase = value;
        return done();
      };
    }
    const kind = this.objectKind(stream, false);
    const ifExists = stream.acceptKeyword('IF', 'EXISTS');
    const parts = stream.qualifiedName();
    // ALTER EXTERNAL TABLE has REFRESH, ADD/REMOVE FILES, SET AUTO_REFRESH and SET/UNSET TAG,
    // but no SET or UNSET COMMENT (docs.snowflake.com/en/sql-reference/sql/alter-external-table).
    if (kind === 'EXTERNAL TABLE' && (stream.isKeyword('SET') || stream.isKeyword('UNSET')) && stream.isKeyword('COMMENT', 1)) throw stream.fail();
    const apply = this.parseAlterAction(stream, session, kind !== 'DATABASE' && kind !== 'SCHEMA' && kind !== 'TAG');
    return () => {
      let target: ReturnType<SnowflakeEngine['resolveObject']>;
      try {
        target = this.resolveObject(kind, parts, session);
      } catch (error) {
        if (ifExists && error instanceof EngineError && error.code === '002003') return done();
        throw error;
      }
      if (target.table?.kind === 'ICEBERG TABLE' && kind !== 'ICEBERG TABLE') throw icebergNeedsOwnCommand(target.table.name);
      // ALTER TABLE ... ALTER COLUMN acts on the table: OWNERSHIP of the table
      // (docs.snowflake.com/en/sql-reference/sql/alter-table, "Access control requirements").
      this.checkOwner(target.table ?? target.node, target.label, target.name, session);
      apply(target.node, target.table, target.name);
      return done();
    };
  }

  /** The action of an ALTER, parsed now, applied to the object once it is resolved. */
  private parseAlterAction(
    stream: TokenStream,
    session: SessionContext,
    hasColumns: boolean,
  ): (node: CatalogNode, table: TableNode | undefined, name: string) => void {
    if (hasColumns && (stream.isKeyword('ALTER') || stream.isKeyword('MODIFY'))) {
      stream.next();
      stream.acceptKeyword('COLUMN');
      const column = stream.expectIdentifier().value;
      let action: (node: CatalogNode, name: string) => void;
      if (stream.acceptKeyword('COMMENT')) {
        const text = stream.expectString();
        action = (node) => void (node.comment = text);
      } else if (stream.isKeyword('UNSET') && stream.isKeyword('COMMENT', 1)) {
        stream.next();
        stream.next();
        action = (node) => void (node.comment = null);
      } else action = this.parseTagAction(stream, session);
      return (_node, table, name) => {
        const node = table?.columns.get(column);
        if (!node) throw new EngineError('000904', '42000', `SQL compilation error: error line 1 at position 0\ninvalid identifier '${column}'`);
        action(node, `${name}.${column}`);
      };
    }
    if (stream.isKeyword('SET') && stream.isKeyword('COMMENT', 1)) {
      stream.next();
      stream.next();
      stream.expectSymbol('=');
      const text = stream.expectString();
      return (node) => void (node.comment = text);
    }
    if (stream.isKeyword('UNSET') && stream.isKeyword('COMMENT', 1)) {
      stream.next();
      stream.next();
      return (node) => void (node.comment = null);
    }
    const action = this.parseTagAction(stream, session);
    return (node, _table, name) => action(node, name);
  }

  private parseTagAction(stream: TokenStream, session: SessionContext): (node: CatalogNode, name: string) => void {
    if (stream.acceptKeyword('SET', 'TAG')) {
      const assignments: { parts: string[]; value: string }[] = [];
      do {
        const parts = stream.qualifiedName();
        stream.expectSymbol('=');
        assignments.push({ parts, value: stream.expectString() });
      } while (stream.acceptSymbol(','));
      return (node, name) => {
        const resolved = assignments.map(({ parts, value }) => ({ tag: this.tagObject(parts, session), value }));
        const after = new Map(node.tags);
        for (const { tag, value } of resolved) {
          const full = `${tag.database}.${tag.schema}.${tag.name}`;
          if (value.length > MAX_TAG_VALUE_LENGTH)
            throw new EngineError('001423', '22000', `SQL compilation error:\nTag value for tag '${full}' exceeds the maximum length of ${MAX_TAG_VALUE_LENGTH} characters.`);
          if (tag.allowedValues && !tag.allowedValues.includes(value))
            throw new EngineError('003168', '22023', `SQL compilation error:\nTag value '${value}' is not in the allowed values list for tag '${full}'.`);
          after.set(tagKey(tag), { tag, value });
        }
        if (after.size > MAX_TAGS_PER_OBJECT)
          throw new EngineError('003167', '54000', `SQL compilation error:\nThe number of tags on object '${name}' would exceed the maximum of ${MAX_TAGS_PER_OBJECT}.`);
        node.tags.clear();
        for (const [key, value] of after) node.tags.set(key, value);
        for (const { tag } of resolved) this.applyMethods.get(node)?.delete(tagKey(tag));
      };
    }
    if (stream.acceptKeyword('UNSET', 'TAG')) {
      const names: string[][] = [];
      do names.push(stream.qualifiedName());
      while (stream.acceptSymbol(','));
      return (node) => {
        for (const parts of names) {
          const key = tagKey(this.tagObject(parts, session));
          node.tags.delete(key);
          this.applyMethods.get(node)?.delete(key);
        }
      };
    }
    throw stream.fail('SET or UNSET');
  }

  // ---------------------------------------------------------------- GRANT OWNERSHIP

  private parseGrant(stream: TokenStream, session: SessionContext): () => StatementResult {
    // The SNOWFLAKE database's views (ACCOUNT_USAGE) are readable by ACCOUNTADMIN and the roles
    // granted IMPORTED PRIVILEGES on it.
    if (stream.acceptKeyword('IMPORTED')) {
      stream.expectKeyword('PRIVILEGES', 'ON', 'DATABASE');
      const database = stream.expectIdentifier().value;
      stream.expectKeyword('TO');
      stream.expectKeyword('ROLE');
      const role = stream.expectIdentifier().value;
      return () => {
        if (database !== 'SNOWFLAKE') throw new EngineError('003011', '42501', `SQL compilation error:\nImported privileges can only be granted on a shared database.`);
        if (session.role !== 'ACCOUNTADMIN') throw insufficient('Database', database);
        if (!this.catalog.roles.has(role)) throw notExists('Role', role);
        this.accountUsageRoles.add(role);
        return done();
      };
    }
    stream.expectKeyword('OWNERSHIP', 'ON');
    const kind = this.objectKind(stream, false);
    const parts = stream.qualifiedName();
    stream.expectKeyword('TO');
    stream.expectKeyword('ROLE');
    const role = stream.expectIdentifier().value;
    if (stream.acceptKeyword('COPY') || stream.acceptKeyword('REVOKE')) stream.expectKeyword('CURRENT', 'GRANTS');
    return () => {
      const target = this.resolveObject(kind, parts, session);
      this.checkOwner(target.node, target.label, target.name, session);
      if (!this.catalog.roles.has(role)) throw notExists('Role', role);
      target.node.owner = role;
      return done();
    };
  }

  // ---------------------------------------------------------------- catalog views and functions

  private resolveSource(source: Source, args: Value[], session: SessionContext): Relation {
    const name = source.name;
    const unknown = () => notExists(source.kind === 'function' ? 'Function' : 'Object', name.join('.'));
    if (source.kind === 'function') {
      const fn = name[name.length - 1];
      const db = name.length === 3 && name[1] === 'INFORMATION_SCHEMA' ? name[0] : session.database;
      if (db === undefined || db === null) throw unknown();
      this.database(db);
      if (fn === 'TAG_REFERENCES') return this.tagReferences(String(args[0] ?? ''), String(args[1] ?? ''), session);
      if (fn === 'TAG_REFERENCES_ALL_COLUMNS') return this.tagReferencesAllColumns(String(args[0] ?? ''), String(args[1] ?? ''), session);
      throw unknown();
    }
    if (name.length === 3 && name[0] === 'SNOWFLAKE' && name[1] === 'ACCOUNT_USAGE') {
      if (session.role !== 'ACCOUNTADMIN' && !this.accountUsageRoles.has(session.role)) throw notExists('Database', 'SNOWFLAKE');
      if (name[2] === 'TAG_REFERENCES') return this.accountUsageTagReferences();
      throw unknown();
    }
    if ((name.length === 3 && name[1] === 'INFORMATION_SCHEMA') || (name.length === 2 && name[0] === 'INFORMATION_SCHEMA')) {
      const db = name.length === 3 ? (name[0] as string) : session.database;
      if (!db) throw unknown();
      return this.informationSchema(this.database(db), name[name.length - 1] as string, unknown);
    }
    // A user table or view: its columns, no rows (views are defined over them).
    const path = this.objectPath(name, session);
    const table = this.table(path, undefined, 'Object');
    return { columns: [...table.columns.keys()], rows: [] };
  }

  private informationSchema(database: DatabaseNode, view: string, unknown: () => EngineError): Relation {
    switch (view) {
      case 'DATABASES':
        return {
          columns: ['DATABASE_NAME', 'DATABASE_OWNER', 'IS_TRANSIENT', 'COMMENT'],
          rows: [...this.catalog.databases.values()].map((db) => [db.name, db.owner, 'NO', db.comment]),
        };
      case 'SCHEMATA':
        return {
          columns: ['CATALOG_NAME', 'SCHEMA_NAME', 'SCHEMA_OWNER', 'IS_TRANSIENT', 'COMMENT'],
          rows: [
            ...[...database.schemas.values()].map((schema): Value[] => [database.name, schema.name, schema.owner, 'NO', schema.comment]),
            [database.name, 'INFORMATION_SCHEMA', null, 'NO', 'Views describing the contents of schemas in this database'],
          ],
        };
      case 'TABLES': {
        const rows: Value[][] = [];
        for (const schema of database.schemas.values())
          for (const table of schema.tables.values())
            rows.push([
              database.name,
              schema.name,
              table.name,
              table.owner,
              table.kind === 'DYNAMIC TABLE' || table.kind === 'ICEBERG TABLE' ? 'BASE TABLE' : table.kind,
              table.kind === 'DYNAMIC TABLE' ? 'YES' : 'NO',
              // IS_ICEBERG (docs.snowflake.com/en/sql-reference/info-schema/tables): an Iceberg table is a BASE TABLE.
              table.kind === 'ICEBERG TABLE' ? 'YES' : 'NO',
              table.comment,
            ]);
        return { columns: ['TABLE_CATALOG', 'TABLE_SCHEMA', 'TABLE_NAME', 'TABLE_OWNER', 'TABLE_TYPE', 'IS_DYNAMIC', 'IS_ICEBERG', 'COMMENT'], rows };
      }
      case 'COLUMNS': {
        const rows: Value[][] = [];
        for (const schema of database.schemas.values())
          for (const table of schema.tables.values())
            for (const column of table.columns.values())
              rows.push([database.name, schema.name, table.name, column.name, column.position, column.dataType, column.nullable ? 'YES' : 'NO', column.comment]);
        return { columns: ['TABLE_CATALOG', 'TABLE_SCHEMA', 'TABLE_NAME', 'COLUMN_NAME', 'ORDINAL_POSITION', 'DATA_TYPE', 'IS_NULLABLE', 'COMMENT'], rows };
      }
      default:
        throw unknown();
    }
  }

  /** Every direct assignment in the account. */
  private directTagReferences(): TagReferenceRow[] {
    const rows: TagReferenceRow[] = [];
    for (const { node, domain, path } of this.catalog.walk())
      for (const [key, { tag, value }] of node.tags) rows.push({ tag, value, level: domain, domain, path, applyMethod: this.applyMethodOf(node, key) });
    return rows;
  }

  /**
   * Direct assignments only, deleted objects excluded. As documented: for a column, OBJECT_NAME
   * is its table and DOMAIN is COLUMN; for a database or schema, the object's own name.
   */
  private accountUsageTagReferences(): Relation {
    const rows = (this.frozenTagReferences ?? this.directTagReferences()).map(({ tag, value, domain, path, applyMethod }): Value[] => {
      const [database, schema, table, column] = path;
      const objectName = domain === 'DATABASE' ? database : domain === 'SCHEMA' ? schema : table;
      return [tag.database, tag.schema, tag.name, value, domain === 'DATABASE' ? null : (database ?? null), domain === 'TABLE' || domain === 'COLUMN' ? (schema ?? null) : null, objectName ?? null, null, domain, column ?? null, applyMethod];
    });
    return {
      columns: ['TAG_DATABASE', 'TAG_SCHEMA', 'TAG_NAME', 'TAG_VALUE', 'OBJECT_DATABASE', 'OBJECT_SCHEMA', 'OBJECT_NAME', 'OBJECT_DELETED', 'DOMAIN', 'COLUMN_NAME', 'APPLY_METHOD'],
      rows,
    };
  }

  private static readonly REFERENCE_COLUMNS = ['TAG_DATABASE', 'TAG_SCHEMA', 'TAG_NAME', 'TAG_VALUE', 'LEVEL', 'OBJECT_DATABASE', 'OBJECT_SCHEMA', 'OBJECT_NAME', 'DOMAIN', 'COLUMN_NAME', 'APPLY_METHOD'];

  /** An object name given as text to a table function, read by the lexer's rules. */
  private nameArgument(text: string): string[] {
    const stream = new TokenStream(lex(text), (token) => syntaxError(text, token.pos, String(token.value)));
    const parts = stream.qualifiedName();
    stream.expectEnd();
    return parts;
  }

  /** The tags of one object, inherited ones included (LEVEL says where each is set), nearest first. */
  private effectiveTags(chain: { node: CatalogNode; level: Domain }[]): Map<string, { tag: TagObject; value: string; level: Domain; method: ApplyMethod }> {
    const tags = new Map<string, { tag: TagObject; value: string; level: Domain; method: ApplyMethod }>();
    for (const { node, level } of chain)
      for (const [key, { tag, value }] of node.tags) if (!tags.has(key)) tags.set(key, { tag, value, level, method: this.applyMethodOf(node, key) });
    return tags;
  }

  private tagReferences(nameText: string, domainText: string, session: SessionContext): Relation {
    const parts = this.nameArgument(nameText);
    const domain = domainText.toUpperCase();
    const rows: Value[][] = [];
    const push = (tags: ReturnType<SnowflakeEngine['effectiveTags']>, path: (string | null)[], rowDomain: string, column: string | null) => {
      for (const { tag, value, level, method } of tags.values()) rows.push([tag.database, tag.schema, tag.name, value, level, path[0] ?? null, path[1] ?? null, path[2] ?? null, rowDomain, column, method]);
    };
    if (domain === 'DATABASE') {
      const database = this.database(parts.join('.'));
      push(this.effectiveTags([{ node: database, level: 'DATABASE' }]), [null, null, database.name], 'DATABASE', null);
    } else if (domain === 'SCHEMA') {
      const [db, name] = this.schemaPath(parts, session);
      const schema = this.schema([db, name]);
      push(this.effectiveTags([{ node: schema, level: 'SCHEMA' }, { node: this.database(db), level: 'DATABASE' }]), [db, null, name], 'SCHEMA', null);
    } else if (domain === 'TABLE') {
      const path = this.objectPath(parts, session);
      const table = this.table(path, undefined, 'Table');
      push(this.effectiveTags(this.tableChain(path, table)), path, 'TABLE', null);
    } else if (domain === 'COLUMN') {
      const path = this.objectPath(parts.slice(0, -1), session);
      const table = this.table(path, undefined, 'Table');
      const column = table.columns.get(parts[parts.length - 1] as string);
      if (!column) throw new EngineError('000904', '42000', `SQL compilation error:\ninvalid identifier '${parts[parts.length - 1]}'`);
      push(this.effectiveTags([{ node: column, level: 'COLUMN' }, ...this.tableChain(path, table)]), path, 'COLUMN', column.name);
    } else throw new EngineError('001044', '42P13', `SQL compilation error:\nInvalid value '${domainText}' for argument 'domain'.`);
    return { columns: SnowflakeEngine.REFERENCE_COLUMNS, rows };
  }

  private tableChain(path: [string, string, string], table: TableNode): { node: CatalogNode; level: Domain }[] {
    return [
      { node: table, level: 'TABLE' },
      { node: this.schema([path[0], path[1]]), level: 'SCHEMA' },
      { node: this.database(path[0]), level: 'DATABASE' },
    ];
  }

  /** Only domain TABLE is accepted, views included (documented). */
  private tagReferencesAllColumns(nameText: string, domainText: string, session: SessionContext): Relation {
    if (domainText.toUpperCase() !== 'TABLE') throw new EngineError('001044', '42P13', `SQL compilation error:\nInvalid value '${domainText}' for argument 'domain'. Only TABLE is supported.`);
    const path = this.objectPath(this.nameArgument(nameText), session);
    const table = this.table(path, undefined, 'Table');
    const chain = this.tableChain(path, table);
    const rows: Value[][] = [];
    for (const column of table.columns.values())
      for (const { tag, value, level, method } of this.effectiveTags([{ node: column, level: 'COLUMN' }, ...chain]).values())
        rows.push([tag.database, tag.schema, tag.name, value, level, path[0], path[1], path[2], 'COLUMN', column.name, method]);
    return { columns: SnowflakeEngine.REFERENCE_COLUMNS, rows };
  }
}
