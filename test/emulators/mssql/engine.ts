/**
 * The T-SQL this emulator runs, over the catalog in catalog.ts, as the calling principal.
 * Statements: SELECT (catalog views, evaluated by the kit), EXEC of the extended-property
 * procedures and sp_getapplock / sp_releaseapplock, ALTER AUTHORIZATION, BEGIN/COMMIT/ROLLBACK
 * TRANSACTION, SET, USE, and for fixtures CREATE LOGIN/DATABASE/USER/ROLE/SCHEMA/TABLE/VIEW,
 * ALTER ROLE ... ADD MEMBER and GRANT.
 * Docs: sp_addextendedproperty, sp_updateextendedproperty, sp_dropextendedproperty
 * (https://learn.microsoft.com/sql/relational-databases/system-stored-procedures/sp-addextendedproperty-transact-sql),
 * ALTER AUTHORIZATION (https://learn.microsoft.com/sql/t-sql/statements/alter-authorization-transact-sql),
 * sp_getapplock (https://learn.microsoft.com/sql/relational-databases/system-stored-procedures/sp-getapplock-transact-sql),
 * SET XACT_ABORT (https://learn.microsoft.com/sql/t-sql/statements/set-xact-abort-transact-sql),
 * metadata visibility (https://learn.microsoft.com/sql/relational-databases/security/metadata-visibility-configuration).
 */
import { evaluateQuery, parseExpr, parseQuery, type Relation, type Select, type Source, type Value } from '../kit/select.js';
import { TokenStream, type Token } from '../kit/tokens.js';
import {
  DB_DDLADMIN,
  DB_OWNER,
  DBO,
  findByName,
  foldFor,
  newDatabase,
  objectKey,
  propertyKey,
  PUBLIC,
  type Database,
  type ExtendedProperty,
  type Login,
  type SecurableClass,
  type SqlObject,
} from './catalog.js';
import { incorrectSyntax, lex, splitStatements, SqlServerError } from './lexer.js';

export interface Session {
  spid: number;
  login: Login;
  database: string;
  xactAbort: boolean;
  /** Undo steps of the open transaction, newest last; undefined outside a transaction. */
  transaction?: (() => void)[];
  descriptor: Buffer;
}

export type ColumnType = 'int' | 'nvarchar' | 'bit';

/** What one statement produced, in the order the reply carries it. */
export type Event =
  | { kind: 'rows'; columns: { name: string; type: ColumnType }[]; rows: Value[][] }
  | { kind: 'done' }
  | { kind: 'proc'; status: number }
  | { kind: 'error'; error: SqlServerError }
  | { kind: 'begin'; descriptor: Buffer }
  | { kind: 'commit'; descriptor: Buffer }
  | { kind: 'rollback'; descriptor: Buffer }
  | { kind: 'database'; next: string; previous: string };

type Param = string | number | boolean | Buffer | null;

const stream = (tokens: Token[]) => new TokenStream(tokens, (token) => incorrectSyntax(token.value));

const EP_PROCEDURES = new Set(['sp_addextendedproperty', 'sp_updateextendedproperty', 'sp_dropextendedproperty']);
/** The documented parameter order of each procedure (positional arguments follow it). */
const PROCEDURE_PARAMETERS: Record<string, string[]> = {
  sp_addextendedproperty: ['name', 'value', 'level0type', 'level0name', 'level1type', 'level1name', 'level2type', 'level2name'],
  sp_updateextendedproperty: ['name', 'value', 'level0type', 'level0name', 'level1type', 'level1name', 'level2type', 'level2name'],
  sp_dropextendedproperty: ['name', 'level0type', 'level0name', 'level1type', 'level1name', 'level2type', 'level2name'],
  sp_getapplock: ['resource', 'lockmode', 'lockowner', 'locktimeout', 'dbprincipal'],
  sp_releaseapplock: ['resource', 'lockowner', 'dbprincipal'],
};

export class SqlServerEngine {
  readonly logins = new Map<string, Login>();
  readonly databases = new Map<string, Database>();
  /** Application locks: database + resource -> the session holding it. */
  readonly applocks = new Map<string, number>();
  private nextSid = 10;
  private nextDatabaseId = 5;

  constructor(readonly serverName: string) {
    this.createLogin('sa', 'sa-password', true);
    this.createDatabase('master', 'SQL_Latin1_General_CP1_CI_AS', 'sa');
  }

  createLogin(name: string, password: string, sysadmin = false): Login {
    const login: Login = { name, password, sid: this.nextSid++, sysadmin, impersonate: new Set() };
    this.logins.set(name.toLowerCase(), login);
    return login;
  }

  createDatabase(name: string, collation: string, owner: string): Database {
    const login = this.logins.get(owner.toLowerCase());
    const database = newDatabase(this.nextDatabaseId++, name, login?.sid ?? 1, collation);
    this.databases.set(name.toLowerCase(), database);
    return database;
  }

  database(name: string): Database | undefined {
    return this.databases.get(name.toLowerCase());
  }

  login(name: string): Login | undefined {
    return this.logins.get(name.toLowerCase());
  }

  /** The user a login is in a database: dbo for its owner and sysadmins, else its mapped user. */
  userOf(database: Database, login: Login): number | undefined {
    if (login.sysadmin || database.owner_sid === login.sid) return DBO;
    for (const principal of database.principals.values()) if (principal.type === 'S' && principal.login?.toLowerCase() === login.name.toLowerCase()) return principal.principal_id;
    return undefined;
  }

  /** Ends a session: its open transaction rolls back, its session-owned locks are released. */
  endSession(session: Session): void {
    this.rollback(session);
    for (const [key, spid] of this.applocks) if (spid === session.spid) this.applocks.delete(key);
  }

  private rollback(session: Session): boolean {
    const undo = session.transaction;
    if (!undo) return false;
    for (let i = undo.length - 1; i >= 0; i--) (undo[i] as () => void)();
    delete session.transaction;
    return true;
  }

  private record(session: Session, undo: () => void): void {
    session.transaction?.push(undo);
  }

  /**
   * Runs a batch. The batch is parsed whole first: a syntax error runs none of it. A run-time
   * error with XACT_ABORT ON rolls the transaction back and ends the batch; with it OFF only the
   * failing statement is lost (SET XACT_ABORT, remarks).
   */
  executeBatch(session: Session, sql: string, params: ReadonlyMap<string, Param> = new Map()): Event[] {
    const events: Event[] = [];
    let statements: Token[][];
    try {
      statements = splitStatements(lex(sql));
    } catch (error) {
      return [{ kind: 'error', error: asSqlError(error) }];
    }
    for (const tokens of statements) {
      try {
        this.statement(session, tokens, params, events);
      } catch (error) {
        const sqlError = asSqlError(error);
        events.push({ kind: 'error', error: sqlError });
        if (session.xactAbort || sqlError.severity >= 20 || sqlError.number === 102 || sqlError.number === 105) {
          if (this.rollback(session)) events.push({ kind: 'rollback', descriptor: session.descriptor });
          break;
        }
      }
    }
    return events;
  }

  /** Runs a procedure called by RPC (request.execute): its return status. */
  executeProcedure(session: Session, procedure: string, params: ReadonlyMap<string, Param>): number {
    const name = procedure.replace(/^(?:\[?sys\]?\.|\[?dbo\]?\.)/i, '').replace(/^\[|\]$/g, '').toLowerCase();
    return this.callProcedure(session, name, params);
  }

  private statement(session: Session, tokens: Token[], params: ReadonlyMap<string, Param>, events: Event[]): void {
    const s = stream(tokens);
    const word = s.peek().kind === 'ident' && !(s.peek() as { quoted: boolean }).quoted ? s.peek().value.toUpperCase() : '';
    switch (word) {
      case 'SELECT':
        events.push(this.select(session, tokens, params));
        return;
      case 'SET':
        this.set(session, s);
        events.push({ kind: 'done' });
        return;
      case 'BEGIN':
        s.next();
        if (!s.acceptKeyword('TRAN')) s.expectKeyword('TRANSACTION');
        if (s.peek().kind === 'ident') s.next();
        s.expectEnd();
        if (!session.transaction) {
          session.transaction = [];
          events.push({ kind: 'begin', descriptor: session.descriptor });
        }
        events.push({ kind: 'done' });
        return;
      case 'COMMIT':
      case 'ROLLBACK': {
        s.next();
        if (!s.acceptKeyword('TRAN') && !s.acceptKeyword('TRANSACTION')) s.acceptKeyword('WORK');
        if (s.peek().kind === 'ident') s.next();
        s.expectEnd();
        // "The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION." (3902 / 3903)
        if (!session.transaction)
          throw new SqlServerError(word === 'COMMIT' ? 3902 : 3903, `The ${word} TRANSACTION request has no corresponding BEGIN TRANSACTION.`);
        if (word === 'COMMIT') delete session.transaction;
        else this.rollback(session);
        events.push({ kind: word === 'COMMIT' ? 'commit' : 'rollback', descriptor: session.descriptor }, { kind: 'done' });
        return;
      }
      case 'EXEC':
      case 'EXECUTE':
        events.push({ kind: 'proc', status: this.exec(session, s, params) });
        return;
      case 'ALTER':
        if (s.isKeyword('AUTHORIZATION', 1)) this.alterAuthorization(session, s);
        else this.alterRole(session, s);
        events.push({ kind: 'done' });
        return;
      case 'CREATE':
        this.create(session, s);
        events.push({ kind: 'done' });
        return;
      case 'GRANT':
        this.grant(session, s);
        events.push({ kind: 'done' });
        return;
      case 'USE': {
        s.next();
        const name = s.expectIdentifier().value;
        s.expectEnd();
        const database = this.database(name);
        if (!database || this.userOf(database, session.login) === undefined)
          throw new SqlServerError(911, `Database '${name}' does not exist. Make sure that the name is entered correctly.`);
        events.push({ kind: 'database', next: database.name, previous: session.database }, { kind: 'done' });
        session.database = database.name;
        return;
      }
      default:
        throw incorrectSyntax(s.peek().value);
    }
  }

  private current(session: Session): { database: Database; user: number; fold: (name: string) => string } {
    const database = this.database(session.database);
    if (!database) throw new SqlServerError(911, `Database '${session.database}' does not exist.`);
    const user = this.userOf(database, session.login);
    if (user === undefined) throw new SqlServerError(916, `The server principal "${session.login.name}" is not able to access the database "${database.name}" under the current security context.`, 14);
    return { database, user, fold: foldFor(database.collation) };
  }

  // --- security ------------------------------------------------------------------------------

  /** The principal and every role it is a member of (public included). */
  private identities(database: Database, user: number): Set<number> {
    const ids = new Set([user, PUBLIC]);
    for (const [role, members] of database.members) if (members.has(user)) ids.add(role);
    return ids;
  }

  private isDbOwner(database: Database, user: number): boolean {
    return user === DBO || this.identities(database, user).has(DB_OWNER) || this.has(database, user, 'CONTROL', 'DATABASE', 0);
  }

  private has(database: Database, user: number, permission: string, cls: SecurableClass, id: number): boolean {
    const ids = this.identities(database, user);
    return database.grants.some((grant) => ids.has(grant.grantee) && grant.class === cls && grant.major_id === id && (grant.permission === permission || grant.permission === 'CONTROL'));
  }

  private ownerOf(database: Database, object: SqlObject): number {
    return object.principal_id ?? (database.schemas.get(object.schema_id)?.principal_id as number);
  }

  /** Metadata visibility: what the caller owns or holds any permission on, or everything for db owners. */
  private sees(database: Database, user: number, cls: 0 | 1 | 3, id: number): boolean {
    if (this.isDbOwner(database, user) || this.has(database, user, 'VIEW DEFINITION', 'DATABASE', 0)) return true;
    if (cls === 0) return true;
    const ids = this.identities(database, user);
    const anyGrant = (c: SecurableClass, major: number) => database.grants.some((grant) => ids.has(grant.grantee) && grant.class === c && grant.major_id === major);
    if (cls === 3)
      return (
        ids.has(database.schemas.get(id)?.principal_id ?? -1) ||
        anyGrant('SCHEMA', id) ||
        database.grants.some((grant) => ids.has(grant.grantee) && grant.class === 'OBJECT' && database.objects.get(grant.major_id)?.schema_id === id)
      );
    const object = database.objects.get(id);
    if (!object) return false;
    return ids.has(this.ownerOf(database, object)) || anyGrant('OBJECT', id) || anyGrant('SCHEMA', object.schema_id);
  }

  /** ALTER on a schema or an object (or what implies it): ownership, ALTER/CONTROL, db_owner, db_ddladmin. */
  private mayAlter(database: Database, user: number, cls: 0 | 1 | 3, id: number): boolean {
    if (this.isDbOwner(database, user)) return true;
    if (cls === 0) return false; // db_ddladmin cannot add properties to the database itself (sp_addextendedproperty, Permissions)
    const ids = this.identities(database, user);
    if (ids.has(DB_DDLADMIN) || this.has(database, user, 'ALTER', 'DATABASE', 0) || this.has(database, user, 'ALTER ANY SCHEMA', 'DATABASE', 0)) return true;
    const schemaId = cls === 3 ? id : (database.objects.get(id)?.schema_id ?? -1);
    if (ids.has(database.schemas.get(schemaId)?.principal_id ?? -1) || this.has(database, user, 'ALTER', 'SCHEMA', schemaId)) return true;
    if (cls === 1) {
      const object = database.objects.get(id);
      return !!object && (ids.has(this.ownerOf(database, object)) || this.has(database, user, 'ALTER', 'OBJECT', id));
    }
    return false;
  }

  // --- SELECT --------------------------------------------------------------------------------

  private select(session: Session, tokens: Token[], params: ReadonlyMap<string, Param>): Event {
    const { database, user } = this.current(session);
    const functions = this.functions(session, database);
    const s = stream(tokens);
    let query;
    const hasFrom = tokens.some((token) => token.kind === 'ident' && !token.quoted && token.value.toUpperCase() === 'FROM');
    if (hasFrom) query = parseQuery(s);
    else {
      // SELECT without FROM (the pool's `SELECT 1`, `SELECT @@SPID`): over one row of variables.
      s.expectKeyword('SELECT');
      const items: Select['items'] = [];
      do {
        const expr = parseExpr(s);
        const alias = s.acceptKeyword('AS') ? s.expectIdentifier().value : s.peek().kind === 'ident' ? s.expectIdentifier().value : undefined;
        items.push(alias === undefined ? { expr, alias: '' } : { expr, alias });
      } while (s.acceptSymbol(','));
      query = [{ distinct: false, items, from: { kind: 'table', name: ['$variables'], alias: '$variables' }, joins: [], orderBy: [] } as Select];
    }
    s.expectEnd();
    const variables: Relation = { columns: ['@@SPID', ...params.keys()], rows: [[session.spid, ...[...params.values()].map((value) => (Buffer.isBuffer(value) ? value.toString('hex') : value))]] };
    const result = evaluateQuery(query, {
      resolve: (source) => (source.kind === 'table' && source.name[0] === '$variables' ? variables : this.view(source, database, user)),
      unknownColumn: (name) => new SqlServerError(207, `Invalid column name '${name}'.`),
      functions,
    });
    const columns = result.columns.map((name, i) => ({ name: name === 'EXPR' ? '' : name, type: columnType(result.rows, i) }));
    return { kind: 'rows', columns, rows: result.rows };
  }

  private functions(session: Session, database: Database): Record<string, (args: Value[]) => Value> {
    return {
      DB_NAME: () => database.name,
      USER_NAME: ([id]) => (id === null || id === undefined ? null : (database.principals.get(Number(id))?.name ?? null)),
      SCHEMA_NAME: ([id]) => (id === null || id === undefined ? null : (database.schemas.get(Number(id))?.name ?? null)),
      SUSER_SNAME: ([sid]) => [...this.logins.values()].find((login) => login.sid === Number(sid))?.name ?? null,
      // CONVERT(nvarchar(n), value): the type argument parses as a call and evaluates to its name.
      NVARCHAR: ([length]) => `nvarchar(${String(length)})`,
      CONVERT: ([type, value]) => {
        if (typeof type !== 'string' || !type.startsWith('nvarchar(')) throw new SqlServerError(243, `Type ${String(type)} is not a defined system type.`);
        if (value === null || value === undefined) return null;
        const text = String(value);
        const length = Number(type.slice(9, -1));
        return text.length > length ? text.slice(0, length) : text;
      },
      SESSION_USER: () => database.principals.get(this.userOf(database, session.login) ?? -1)?.name ?? null,
    };
  }

  /** The catalog views, as the caller may see them. */
  private view(source: Source, database: Database, user: number): Relation {
    const name = source.name.map((part) => part.toLowerCase());
    const key = name.slice(-2).join('.');
    if (name.length < 2 || name[name.length - 2] !== 'sys') throw new SqlServerError(208, `Invalid object name '${source.name.join('.')}'.`);
    switch (key) {
      case 'sys.databases':
        return {
          columns: ['database_id', 'name', 'owner_sid', 'collation_name'],
          rows: [...this.databases.values()].map((d) => [d.database_id, d.name, d.owner_sid, d.collation]),
        };
      case 'sys.schemas':
        return {
          columns: ['name', 'schema_id', 'principal_id'],
          rows: [...database.schemas.values()].filter((schema) => this.sees(database, user, 3, schema.schema_id)).map((schema) => [schema.name, schema.schema_id, schema.principal_id]),
        };
      case 'sys.objects':
        return {
          columns: ['name', 'object_id', 'principal_id', 'schema_id', 'type', 'type_desc', 'is_ms_shipped'],
          rows: [...database.objects.values()]
            .filter((object) => this.sees(database, user, 1, object.object_id))
            .map((object) => [object.name, object.object_id, object.principal_id, object.schema_id, object.type, object.type === 'U' ? 'USER_TABLE' : 'VIEW', 0]),
        };
      case 'sys.columns': {
        const rows: Value[][] = [];
        for (const object of database.objects.values())
          if (this.sees(database, user, 1, object.object_id)) for (const column of object.columns) rows.push([object.object_id, column.name, column.column_id]);
        return { columns: ['object_id', 'name', 'column_id'], rows };
      }
      case 'sys.extended_properties': {
        const rows: Value[][] = [];
        const classDesc = { 0: 'DATABASE', 1: 'OBJECT_OR_COLUMN', 3: 'SCHEMA' } as const;
        for (const property of database.properties.values())
          if (this.sees(database, user, property.class, property.major_id))
            rows.push([property.class, classDesc[property.class], property.major_id, property.minor_id, property.name, property.value]);
        return { columns: ['class', 'class_desc', 'major_id', 'minor_id', 'name', 'value'], rows };
      }
      case 'sys.database_principals': {
        const ids = this.identities(database, user);
        const all = this.isDbOwner(database, user);
        return {
          columns: ['name', 'principal_id', 'type', 'type_desc'],
          rows: [...database.principals.values()]
            .filter((principal) => all || ids.has(principal.principal_id) || principal.principal_id < 5 || principal.principal_id >= 16384)
            .map((principal) => [principal.name, principal.principal_id, principal.type, principal.type === 'R' ? 'DATABASE_ROLE' : 'SQL_USER']),
        };
      }
      default:
        throw new SqlServerError(208, `Invalid object name '${source.name.join('.')}'.`);
    }
  }

  // --- SET -----------------------------------------------------------------------------------

  private set(session: Session, s: TokenStream): void {
    s.expectKeyword('SET');
    if (s.acceptKeyword('TRANSACTION', 'ISOLATION', 'LEVEL')) {
      while (!s.atEnd()) s.next();
      return;
    }
    const option = s.expectIdentifier().value.toUpperCase();
    const value = s.next();
    s.expectEnd();
    if (option === 'XACT_ABORT') session.xactAbort = value.value.toUpperCase() === 'ON';
  }

  // --- EXEC ----------------------------------------------------------------------------------

  private exec(session: Session, s: TokenStream, params: ReadonlyMap<string, Param>): number {
    s.next();
    if (s.peek().kind === 'ident' && s.peek().value.startsWith('@') && s.isSymbol('=', 1)) throw new SqlServerError(50000, 'tds-emu: EXEC @status = is not modelled');
    const nameParts = s.qualifiedName();
    const name = (nameParts[nameParts.length - 1] as string).toLowerCase();
    if (nameParts.length > 1 && !['sys', 'dbo'].includes((nameParts[nameParts.length - 2] as string).toLowerCase()))
      throw new SqlServerError(2812, `Could not find stored procedure '${nameParts.join('.')}'.`);
    const order = PROCEDURE_PARAMETERS[name];
    if (!order) throw new SqlServerError(2812, `Could not find stored procedure '${nameParts.join('.')}'.`);
    const args = new Map<string, Param>();
    let position = 0;
    if (!s.atEnd())
      do {
        let key: string | undefined;
        if (s.peek().kind === 'ident' && s.peek().value.startsWith('@') && s.isSymbol('=', 1)) {
          key = s.next().value.slice(1).toLowerCase();
          s.next();
        } else {
          // "Must pass parameter number 2 and subsequent parameters as '@name = value'." (119)
          if (args.size > position) throw new SqlServerError(119, `Must pass parameter number ${position + 1} and subsequent parameters as '@name = value'. After the form '@name = value' has been used, all subsequent parameters must be passed in the form '@name = value'.`, 15);
          key = order[position];
        }
        position++;
        if (key === undefined || !order.includes(key)) throw new SqlServerError(8145, `@${key ?? position} is not a parameter for procedure ${name}.`);
        args.set(key, this.argument(s, params));
      } while (s.acceptSymbol(','));
    s.expectEnd();
    return this.callProcedure(session, name, args);
  }

  private argument(s: TokenStream, params: ReadonlyMap<string, Param>): Param {
    const token = s.next();
    if (token.kind === 'string') return token.value;
    if (token.kind === 'number') return Number(token.value);
    if (token.kind === 'symbol' && token.value === '-') {
      const number = s.next();
      if (number.kind !== 'number') throw incorrectSyntax(number.value);
      return -Number(number.value);
    }
    if (token.kind === 'ident' && !token.quoted && token.value.toUpperCase() === 'NULL') return null;
    if (token.kind === 'ident' && token.value.startsWith('@')) {
      const key = [...params.keys()].find((name) => name.toLowerCase() === token.value.toLowerCase());
      if (key === undefined) throw new SqlServerError(137, `Must declare the scalar variable "${token.value}".`, 15);
      return params.get(key) ?? null;
    }
    throw incorrectSyntax(token.value);
  }

  private callProcedure(session: Session, name: string, rawArgs: ReadonlyMap<string, Param>): number {
    const args = new Map<string, Param>();
    for (const [key, value] of rawArgs) args.set(key.replace(/^@/, '').toLowerCase(), value);
    if (EP_PROCEDURES.has(name)) {
      this.extendedProperty(session, name, args);
      return 0;
    }
    if (name === 'sp_getapplock' || name === 'sp_releaseapplock') return this.applock(session, name, args);
    throw new SqlServerError(2812, `Could not find stored procedure '${name}'.`);
  }

  /**
   * sp_getapplock: 0 granted, -1 timed out, -999 a parameter or call error; a Session lock lives
   * until released or the session ends. Waiting (a timeout other than 0 while another session
   * holds the lock) is not modelled: the emulator answers -1 at once.
   */
  private applock(session: Session, name: string, args: Map<string, Param>): number {
    const resource = args.get('resource');
    const owner = String(args.get('lockowner') ?? 'Transaction').toLowerCase();
    if (typeof resource !== 'string') return -999;
    if (owner === 'transaction' && !session.transaction) return -999;
    const key = `${session.database.toLowerCase()}\u0000${resource}`;
    const holder = this.applocks.get(key);
    if (name === 'sp_releaseapplock') {
      if (holder !== session.spid)
        throw new SqlServerError(1223, `Cannot release the application lock (Database Principal: 'public', Resource: '${resource}') because it is not currently held.`);
      this.applocks.delete(key);
      return 0;
    }
    if (holder !== undefined && holder !== session.spid) return -1;
    this.applocks.set(key, session.spid);
    return 0;
  }

  /** The three extended-property procedures (arguments are plain sysname names, never [quoted]). */
  private extendedProperty(session: Session, procedure: string, args: Map<string, Param>): void {
    const { database, user, fold } = this.current(session);
    const name = args.get('name');
    const invalid = () => new SqlServerError(15600, `An invalid parameter or option was specified for procedure 'sys.${procedure}'.`);
    if (typeof name !== 'string' || name.length === 0 || name.length > 128) throw invalid();
    const text = (key: string) => {
      const value = args.get(key);
      if (value !== null && value !== undefined && typeof value !== 'string') throw invalid();
      return value ?? null;
    };
    const types = [text('level0type'), text('level1type'), text('level2type')].map((type) => type?.toUpperCase() ?? null);
    const names = [text('level0name'), text('level1name'), text('level2name')];
    for (let i = 0; i < 3; i++) {
      if ((types[i] === null) !== (names[i] === null) && names[i] !== null) throw invalid();
      if (i > 0 && types[i] !== null && types[i - 1] === null) throw invalid();
    }
    let target: { class: 0 | 1 | 3; major_id: number; minor_id: number; label: string };
    const missing = (label: string) => new SqlServerError(15135, `Object is invalid. Extended properties are not permitted on '${label}', or the object does not exist.`);
    if (types[0] === null) target = { class: 0, major_id: 0, minor_id: 0, label: database.name };
    else {
      if (types[0] !== 'SCHEMA') throw invalid();
      const schema = findByName(database.schemas.values(), names[0] as string, fold);
      if (!schema || !this.sees(database, user, 3, schema.schema_id)) throw missing(names[0] as string);
      if (types[1] === null) target = { class: 3, major_id: schema.schema_id, minor_id: 0, label: schema.name };
      else {
        if (types[1] !== 'TABLE' && types[1] !== 'VIEW') throw invalid();
        const id = database.objectIndex.get(objectKey(schema.schema_id, fold(names[1] as string)));
        const object = id === undefined ? undefined : database.objects.get(id);
        const label = `${schema.name}.${names[1] as string}`;
        if (!object || object.type !== (types[1] === 'TABLE' ? 'U' : 'V') || !this.sees(database, user, 1, object.object_id)) throw missing(label);
        if (types[2] === null) target = { class: 1, major_id: object.object_id, minor_id: 0, label: `${schema.name}.${object.name}` };
        else {
          if (types[2] !== 'COLUMN') throw invalid();
          const column = findByName(object.columns, names[2] as string, fold);
          if (!column) throw missing(`${label}.${names[2] as string}`);
          target = { class: 1, major_id: object.object_id, minor_id: column.column_id, label: `${schema.name}.${object.name}.${column.name}` };
        }
      }
    }
    // "Users can add extended properties to objects they own or have ALTER or CONTROL permissions on." 15247 otherwise.
    if (!this.mayAlter(database, user, target.class, target.major_id)) throw new SqlServerError(15247, 'User does not have permission to perform this action.');
    const value = procedure === 'sp_dropextendedproperty' ? null : (args.get('value') ?? null);
    if (Buffer.isBuffer(value) || typeof value === 'boolean') throw invalid();
    // @value is sql_variant: at most 7,500 bytes (nvarchar text: two bytes a UTF-16 unit).
    if (typeof value === 'string' && Buffer.byteLength(value, 'utf16le') > 7500)
      throw new SqlServerError(15097, 'The size associated with an extended property cannot be more than 7,500 bytes.');
    const key = propertyKey(target, fold(name));
    const existing = database.properties.get(key);
    if (procedure === 'sp_addextendedproperty') {
      if (existing) throw new SqlServerError(15233, `Property cannot be added. Property '${name}' already exists for '${target.label}'.`);
      const property: ExtendedProperty = { class: target.class, major_id: target.major_id, minor_id: target.minor_id, name, value };
      database.properties.set(key, property);
      this.record(session, () => database.properties.delete(key));
      return;
    }
    if (!existing) throw new SqlServerError(15217, `Property cannot be updated or deleted. Property '${name}' does not exist for '${target.label}'.`);
    if (procedure === 'sp_dropextendedproperty') {
      database.properties.delete(key);
      this.record(session, () => database.properties.set(key, existing));
    } else {
      const previous = existing.value;
      existing.value = value;
      this.record(session, () => (existing.value = previous));
    }
  }

  // --- ALTER AUTHORIZATION -------------------------------------------------------------------

  /**
   * ALTER AUTHORIZATION ON [class::]entity TO { SCHEMA OWNER | principal }. Needs TAKE OWNERSHIP
   * (CONTROL implies it) on the entity and IMPERSONATE on a new owner other than the caller.
   * Changing the owner of anything but a database drops every permission granted on it.
   * Not found and not permitted are one error, 15151.
   */
  private alterAuthorization(session: Session, s: TokenStream): void {
    s.expectKeyword('ALTER', 'AUTHORIZATION', 'ON');
    let cls = 'OBJECT';
    if (s.peek(1).kind === 'symbol' && s.peek(1).value === '::') {
      cls = s.expectIdentifier().value.toUpperCase();
      s.expectSymbol('::');
    }
    const entity = s.qualifiedName();
    s.expectKeyword('TO');
    const toSchemaOwner = s.acceptKeyword('SCHEMA', 'OWNER');
    const principalName = toSchemaOwner ? undefined : s.expectIdentifier().value;
    s.expectEnd();
    const notFound = (what: string, name: string) => new SqlServerError(15151, `Cannot find the ${what} '${name}', because it does not exist or you do not have permission.`);
    if (cls === 'DATABASE') {
      if (entity.length !== 1 || toSchemaOwner) throw incorrectSyntax('::');
      const database = this.database(entity[0] as string);
      if (!database) throw notFound('database', entity[0] as string);
      const caller = this.userOf(database, session.login);
      const login = this.login(principalName as string);
      if (!login) throw notFound('principal', principalName as string);
      const allowed =
        session.login.sysadmin || (caller !== undefined && this.has(database, caller, 'TAKE OWNERSHIP', 'DATABASE', 0) && (login === session.login || session.login.impersonate.has(login.name.toLowerCase())));
      if (!allowed) throw notFound('database', database.name);
      // The new owner cannot already be a user of the database (UNCONFIRMED number 15110).
      for (const principal of database.principals.values())
        if (principal.principal_id !== DBO && principal.login?.toLowerCase() === login.name.toLowerCase())
          throw new SqlServerError(15110, 'The proposed new database owner is already a user or aliased in the database.');
      const previous = database.owner_sid;
      database.owner_sid = login.sid;
      this.record(session, () => (database.owner_sid = previous));
      return;
    }
    const { database, user, fold } = this.current(session);
    const principal = principalName === undefined ? undefined : findByName(database.principals.values(), principalName, fold);
    if (principalName !== undefined && !principal) throw notFound('user', principalName);
    const mayTake = (majorClass: SecurableClass, id: number, schemaId: number) =>
      this.isDbOwner(database, user) || this.has(database, user, 'TAKE OWNERSHIP', majorClass, id) || this.has(database, user, 'CONTROL', 'SCHEMA', schemaId);
    const mayGive = () =>
      this.isDbOwner(database, user) ||
      principal === undefined ||
      principal.principal_id === user ||
      (principal.type === 'R' ? this.identities(database, user).has(principal.principal_id) || this.has(database, user, 'ALTER', 'ROLE', principal.principal_id) : this.has(database, user, 'IMPERSONATE', 'USER', principal.principal_id));
    const dropGrants = (cls: SecurableClass, id: number) => {
      const kept = database.grants.filter((grant) => !(grant.class === cls && grant.major_id === id));
      const before = database.grants;
      database.grants = kept;
      this.record(session, () => (database.grants = before));
    };
    if (cls === 'SCHEMA') {
      if (entity.length !== 1 || toSchemaOwner) throw incorrectSyntax('OWNER');
      const schema = findByName(database.schemas.values(), entity[0] as string, fold);
      if (!schema || !this.sees(database, user, 3, schema.schema_id) || !mayTake('SCHEMA', schema.schema_id, schema.schema_id) || !mayGive())
        throw notFound('schema', entity[0] as string);
      const previous = schema.principal_id;
      schema.principal_id = (principal as { principal_id: number }).principal_id;
      this.record(session, () => (schema.principal_id = previous));
      dropGrants('SCHEMA', schema.schema_id);
      return;
    }
    if (cls !== 'OBJECT' || entity.length > 2) throw incorrectSyntax(cls);
    const schema = findByName(database.schemas.values(), entity.length === 2 ? (entity[0] as string) : 'dbo', fold);
    const id = schema && database.objectIndex.get(objectKey(schema.schema_id, fold(entity[entity.length - 1] as string)));
    const object = id === undefined ? undefined : database.objects.get(id);
    if (!schema || !object || !this.sees(database, user, 1, object.object_id) || !mayTake('OBJECT', object.object_id, schema.schema_id) || !mayGive())
      throw notFound('object', entity.join('.'));
    const previous = object.principal_id;
    object.principal_id = principal ? principal.principal_id : null;
    this.record(session, () => (object.principal_id = previous));
    dropGrants('OBJECT', object.object_id);
  }

  // --- fixtures: CREATE, ALTER ROLE, GRANT ----------------------------------------------------

  private requireAdmin(session: Session, what: string): void {
    if (session.login.sysadmin) return;
    const database = this.database(session.database);
    const user = database && this.userOf(database, session.login);
    if (!database || user === undefined || !this.isDbOwner(database, user)) throw new SqlServerError(262, `${what} permission denied in database '${session.database}'.`, 14);
  }

  private create(session: Session, s: TokenStream): void {
    s.expectKeyword('CREATE');
    const kind = s.expectIdentifier().value.toUpperCase();
    this.requireAdmin(session, `CREATE ${kind}`);
    if (kind === 'LOGIN') {
      const name = s.expectIdentifier().value;
      s.expectKeyword('WITH', 'PASSWORD');
      s.expectSymbol('=');
      this.createLogin(name, s.expectString());
      return s.expectEnd();
    }
    if (kind === 'DATABASE') {
      const name = s.expectIdentifier().value;
      const collation = s.acceptKeyword('COLLATE') ? s.expectIdentifier().value : 'SQL_Latin1_General_CP1_CI_AS';
      s.expectEnd();
      this.createDatabase(name, collation, session.login.name);
      return;
    }
    const { database, fold } = this.current(session);
    const id = () => database.nextId++;
    if (kind === 'USER' || kind === 'ROLE') {
      const name = s.expectIdentifier().value;
      let login: string | undefined = kind === 'USER' ? name : undefined;
      if (kind === 'USER' && s.acceptKeyword('WITHOUT', 'LOGIN')) login = undefined;
      else if (kind === 'USER' && (s.acceptKeyword('FOR', 'LOGIN') || s.acceptKeyword('FROM', 'LOGIN'))) login = s.expectIdentifier().value;
      s.expectEnd();
      if (login !== undefined && !this.login(login)) throw new SqlServerError(15007, `'${login}' is not a valid login or you do not have permission.`);
      const principal_id = id();
      database.principals.set(principal_id, { principal_id, name, type: kind === 'USER' ? 'S' : 'R', ...(login ? { login } : {}) });
      return;
    }
    if (kind === 'SCHEMA') {
      const name = s.expectIdentifier().value;
      const owner = s.acceptKeyword('AUTHORIZATION') ? findByName(database.principals.values(), s.expectIdentifier().value, fold) : database.principals.get(DBO);
      s.expectEnd();
      if (!owner) throw new SqlServerError(15151, 'Cannot find the user, because it does not exist or you do not have permission.');
      const schema_id = id();
      database.schemas.set(schema_id, { schema_id, name, principal_id: owner.principal_id });
      return;
    }
    if (kind === 'TABLE' || kind === 'VIEW') {
      const parts = s.qualifiedName();
      const schema = findByName(database.schemas.values(), parts.length === 2 ? (parts[0] as string) : 'dbo', fold);
      const name = parts[parts.length - 1] as string;
      if (!schema) throw new SqlServerError(2760, `The specified schema name "${parts[0] ?? ''}" either does not exist or you do not have permission to use it.`);
      if (database.objectIndex.has(objectKey(schema.schema_id, fold(name))))
        throw new SqlServerError(2714, `There is already an object named '${name}' in the database.`);
      const columns: string[] = [];
      if (kind === 'TABLE') {
        s.expectSymbol('(');
        let depth = 1;
        columns.push(s.expectIdentifier().value);
        while (depth > 0) {
          const token = s.next();
          if (token.kind === 'end') throw incorrectSyntax('');
          if (token.kind === 'symbol' && token.value === '(') depth++;
          else if (token.kind === 'symbol' && token.value === ')') depth--;
          else if (depth === 1 && token.kind === 'symbol' && token.value === ',') columns.push(s.expectIdentifier().value);
        }
      } else {
        s.expectKeyword('AS', 'SELECT');
        do {
          const expr = parseExpr(s);
          const alias = s.acceptKeyword('AS') ? s.expectIdentifier().value : undefined;
          columns.push(alias ?? (expr.kind === 'column' ? (expr.parts[expr.parts.length - 1] as string) : ''));
        } while (s.acceptSymbol(','));
        s.expectKeyword('FROM');
        while (!s.atEnd()) s.next();
      }
      s.expectEnd();
      const object_id = id();
      database.objects.set(object_id, {
        object_id,
        schema_id: schema.schema_id,
        name,
        type: kind === 'TABLE' ? 'U' : 'V',
        principal_id: null,
        columns: columns.map((column, i) => ({ column_id: i + 1, name: column })),
      });
      database.objectIndex.set(objectKey(schema.schema_id, fold(name)), object_id);
      return;
    }
    throw incorrectSyntax(kind);
  }

  /** ALTER ROLE r ADD MEMBER u; ALTER SERVER ROLE sysadmin ADD MEMBER login. */
  private alterRole(session: Session, s: TokenStream): void {
    s.expectKeyword('ALTER');
    const server = s.acceptKeyword('SERVER');
    s.expectKeyword('ROLE');
    const role = s.expectIdentifier().value;
    s.expectKeyword('ADD', 'MEMBER');
    const member = s.expectIdentifier().value;
    s.expectEnd();
    this.requireAdmin(session, 'ALTER ROLE');
    if (server) {
      const login = this.login(member);
      if (!login || role.toLowerCase() !== 'sysadmin') throw new SqlServerError(15151, `Cannot alter the role '${role}', because it does not exist or you do not have permission.`);
      login.sysadmin = true;
      return;
    }
    const { database, fold } = this.current(session);
    const rolePrincipal = findByName(database.principals.values(), role, fold);
    const memberPrincipal = findByName(database.principals.values(), member, fold);
    if (!rolePrincipal || rolePrincipal.type !== 'R' || !memberPrincipal)
      throw new SqlServerError(15151, `Cannot alter the role '${role}', because it does not exist or you do not have permission.`);
    const members = database.members.get(rolePrincipal.principal_id) ?? new Set<number>();
    members.add(memberPrincipal.principal_id);
    database.members.set(rolePrincipal.principal_id, members);
  }

  /** GRANT permission[, ...] [ON class::name] TO principal; IMPERSONATE ON LOGIN::x TO login. */
  private grant(session: Session, s: TokenStream): void {
    s.expectKeyword('GRANT');
    const permissions: string[] = [];
    do {
      const words: string[] = [];
      while (s.peek().kind === 'ident' && !['ON', 'TO'].includes(s.peek().value.toUpperCase())) words.push(s.next().value.toUpperCase());
      permissions.push(words.join(' '));
    } while (s.acceptSymbol(','));
    let cls: string = 'DATABASE';
    let entity: string[] = [];
    if (s.acceptKeyword('ON')) {
      if (s.isSymbol('::', 1)) {
        cls = s.expectIdentifier().value.toUpperCase();
        s.expectSymbol('::');
      } else cls = 'OBJECT';
      entity = s.qualifiedName();
    }
    s.expectKeyword('TO');
    const grantee = s.expectIdentifier().value;
    s.expectEnd();
    this.requireAdmin(session, 'GRANT');
    if (cls === 'LOGIN') {
      const login = this.login(grantee);
      if (!login) throw new SqlServerError(15151, `Cannot find the login '${grantee}', because it does not exist or you do not have permission.`);
      login.impersonate.add((entity[0] as string).toLowerCase());
      return;
    }
    const { database, fold } = this.current(session);
    const principal = findByName(database.principals.values(), grantee, fold);
    if (!principal) throw new SqlServerError(15151, `Cannot find the user '${grantee}', because it does not exist or you do not have permission.`);
    let major = 0;
    if (cls === 'SCHEMA') major = findByName(database.schemas.values(), entity[0] as string, fold)?.schema_id ?? -1;
    else if (cls === 'OBJECT') {
      const schema = findByName(database.schemas.values(), entity.length === 2 ? (entity[0] as string) : 'dbo', fold);
      major = (schema && database.objectIndex.get(objectKey(schema.schema_id, fold(entity[entity.length - 1] as string)))) ?? -1;
    } else if (cls === 'USER' || cls === 'ROLE') major = findByName(database.principals.values(), entity[0] as string, fold)?.principal_id ?? -1;
    if (major < 0) throw new SqlServerError(15151, `Cannot find the ${cls.toLowerCase()} '${entity.join('.')}', because it does not exist or you do not have permission.`);
    for (const permission of permissions) database.grants.push({ permission, class: cls as SecurableClass, major_id: major, grantee: principal.principal_id });
  }
}

function asSqlError(error: unknown): SqlServerError {
  if (error instanceof SqlServerError) return error;
  return new SqlServerError(50000, `tds-emu: ${error instanceof Error ? error.message : String(error)}`);
}

function columnType(rows: readonly Value[][], index: number): ColumnType {
  let type: ColumnType | undefined;
  for (const row of rows) {
    const value = row[index];
    if (value === null || value === undefined) continue;
    const own: ColumnType = typeof value === 'number' ? 'int' : typeof value === 'boolean' ? 'bit' : 'nvarchar';
    if (type !== undefined && type !== own) return 'nvarchar';
    type = own;
  }
  return type ?? 'nvarchar';
}
