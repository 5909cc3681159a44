/**
 * What the emulated Oracle holds and how it answers a statement: users with their system
 * privileges, schemas (a schema is its owning user), tables, views and materialized views with
 * their columns, comments and object grants, and the statements metaform and the tests send.
 * Rules, each from the SQL Language Reference or the Database Reference:
 * - COMMENT (https://docs.oracle.com/en/database/oracle/oracle-database/19/sqlrf/COMMENT.html):
 *   the object must be in your own schema, or you need COMMENT ANY TABLE; `IS ''` drops the
 *   comment (the empty string is NULL: "Nulls" in the Basic Elements chapter); COMMENT ON
 *   MATERIALIZED VIEW for materialized views, whose comment is in ALL_MVIEW_COMMENTS.
 * - Names: an unqualified name is in the current user's schema (Database Object Names and
 *   Qualifiers). An object you cannot see is ORA-00942 "table or view does not exist"; one you
 *   can see but not change is ORA-01031 "insufficient privileges"; a column that is not there is
 *   ORA-00904 "invalid identifier".
 * - ALL_TAB_COMMENTS, ALL_COL_COMMENTS, ALL_MVIEW_COMMENTS (Database Reference, 19c): the
 *   objects "accessible to the current user": owned, granted an object privilege, or readable
 *   through a SELECT/READ ANY TABLE system privilege. COMMENT ANY TABLE alone does not make an
 *   object visible there (UNVERIFIED against a real server: taken from the ALL_* view
 *   definitions' use of object grants and the ANY TABLE privileges).
 * - COMMENTS is VARCHAR2(4000): a longer comment is ORA-01704 at the literal already.
 */
import { evaluateQuery, parseQuery, type Relation, type Source, type Value } from '../kit/select.js';
import { EngineError, TokenStream, type Token } from '../kit/tokens.js';
import { makeVerifier, type Verifier } from './auth.js';
import { lex, oraError } from './lexer.js';

export type ObjectKind = 'TABLE' | 'VIEW' | 'MATERIALIZED VIEW';

export interface OracleColumn {
  name: string;
  comment: string | null;
}

export interface OracleObject {
  owner: string;
  name: string;
  kind: ObjectKind;
  /** COMMENT ON TABLE (for a materialized view: its container table's). */
  comment: string | null;
  /** COMMENT ON MATERIALIZED VIEW. */
  mviewComment: string | null;
  columns: OracleColumn[];
  /** grantee -> object privileges */
  grants: Map<string, Set<string>>;
}

export interface OracleUser {
  name: string;
  verifier: Verifier;
  systemPrivileges: Set<string>;
}

export type StatementResult = { kind: 'query'; relation: Relation } | { kind: 'done'; rowCount: number };

/** The administrator who runs the fixtures: every system privilege, as SYSTEM has. */
export const ADMIN = 'SYSTEM';
const READ_ANY = ['SELECT ANY TABLE', 'READ ANY TABLE'];

const syntaxError = (token: Token): EngineError =>
  token.kind === 'end' ? oraError(921, 'unexpected end of SQL command') : oraError(900, `invalid SQL statement near "${token.value}"`);

export class OracleEngine {
  readonly users = new Map<string, OracleUser>();
  /** "OWNER"."NAME" -> object */
  readonly objects = new Map<string, OracleObject>();
  /** Every statement run, as sent (tests check what reached the server). */
  readonly statements: { user: string; sql: string }[] = [];

  constructor() {
    this.users.set(ADMIN, { name: ADMIN, verifier: makeVerifier('manager'), systemPrivileges: new Set(['ALL']) });
  }

  private hasPrivilege(user: string, privilege: string): boolean {
    const privileges = this.users.get(user)?.systemPrivileges;
    return privileges !== undefined && (privileges.has('ALL') || privileges.has(privilege));
  }

  private visible(user: string, object: OracleObject): boolean {
    return object.owner === user || (object.grants.get(user)?.size ?? 0) > 0 || READ_ANY.some((p) => this.hasPrivilege(user, p));
  }

  /** Runs one statement as `user`, its binds in the order they appear. */
  execute(user: string, sql: string, binds: readonly (string | null)[] = []): StatementResult {
    this.statements.push({ user, sql });
    const tokens = bindValues(lex(sql), binds);
    const stream = new TokenStream(tokens, syntaxError);
    if (stream.isKeyword('SELECT') || stream.isKeyword('WITH')) return { kind: 'query', relation: this.select(user, tokens) };
    if (stream.acceptKeyword('COMMENT', 'ON')) return this.comment(user, stream);
    if (stream.acceptKeyword('CREATE', 'USER')) return this.createUser(user, stream);
    if (stream.acceptKeyword('CREATE')) return this.create(user, stream);
    if (stream.acceptKeyword('GRANT')) return this.grant(user, stream);
    if (stream.acceptKeyword('DROP', 'TABLE')) {
      const object = this.resolve(user, stream.qualifiedName());
      stream.expectEnd();
      if (object.owner !== user && !this.hasPrivilege(user, 'DROP ANY TABLE')) throw oraError(1031, 'insufficient privileges');
      this.objects.delete(key(object.owner, object.name));
      return { kind: 'done', rowCount: 0 };
    }
    throw oraError(900, 'invalid SQL statement');
  }

  private resolve(user: string, name: string[], kind?: 'MATERIALIZED VIEW'): OracleObject {
    const [owner, table] = name.length === 2 ? name : [user, name[0]];
    if (name.length > 2 || table === undefined || owner === undefined) throw oraError(942, 'table or view does not exist');
    const object = this.objects.get(key(owner, table));
    if (kind === 'MATERIALIZED VIEW' && (!object || object.kind !== kind || !this.visible(user, object)))
      throw oraError(12003, `materialized view "${owner}"."${table}" does not exist`);
    if (!object || !this.visible(user, object)) throw oraError(942, 'table or view does not exist');
    return object;
  }

  private comment(user: string, stream: TokenStream): StatementResult {
    let target: 'table' | 'mview' | 'column';
    if (stream.acceptKeyword('TABLE')) target = 'table';
    else if (stream.acceptKeyword('MATERIALIZED', 'VIEW')) target = 'mview';
    else if (stream.acceptKeyword('COLUMN')) target = 'column';
    else throw oraError(905, 'missing keyword');
    const name = stream.qualifiedName();
    const column = target === 'column' ? name.pop() : undefined;
    if (target === 'column' && (column === undefined || name.length === 0)) throw oraError(904, 'invalid identifier');
    stream.expectKeyword('IS');
    const text = stream.expectString();
    stream.expectEnd();
    const object = this.resolve(user, name, target === 'mview' ? 'MATERIALIZED VIEW' : undefined);
    if (object.owner !== user && !this.hasPrivilege(user, 'COMMENT ANY TABLE')) throw oraError(1031, 'insufficient privileges');
    const value = text === '' ? null : text;
    if (target === 'table') object.comment = value;
    else if (target === 'mview') object.mviewComment = value;
    else {
      const found = object.columns.find((candidate) => candidate.name === column);
      if (!found) throw oraError(904, `"${column}": invalid identifier`);
      found.comment = value;
    }
    return { kind: 'done', rowCount: 0 };
  }

  private createUser(user: string, stream: TokenStream): StatementResult {
    if (!this.hasPrivilege(user, 'CREATE USER')) throw oraError(1031, 'insufficient privileges');
    const name = stream.expectIdentifier().value;
    stream.expectKeyword('IDENTIFIED', 'BY');
    const password = stream.expectIdentifier().value;
    stream.expectEnd();
    if (this.users.has(name)) throw oraError(1920, `user name '${name}' conflicts with another user or role name`);
    this.users.set(name, { name, verifier: makeVerifier(password), systemPrivileges: new Set() });
    return { kind: 'done', rowCount: 0 };
  }

  /** CREATE TABLE t (c type, ...), CREATE [MATERIALIZED] VIEW v (c, ...) AS ... (fixtures). */
  private create(user: string, stream: TokenStream): StatementResult {
    let kind: ObjectKind;
    if (stream.acceptKeyword('TABLE')) kind = 'TABLE';
    else if (stream.acceptKeyword('MATERIALIZED', 'VIEW')) kind = 'MATERIALIZED VIEW';
    else if (stream.acceptKeyword('VIEW')) kind = 'VIEW';
    else throw oraError(901, 'invalid CREATE command');
    const name = stream.qualifiedName();
    const [owner, table] = name.length === 2 ? name : [user, name[0]];
    if (owner === undefined || table === undefined) throw oraError(903, 'invalid table name');
    if (owner !== user && !this.hasPrivilege(user, 'CREATE ANY TABLE')) throw oraError(1031, 'insufficient privileges');
    if (!this.users.has(owner)) throw oraError(1918, `user '${owner}' does not exist`);
    if (this.objects.has(key(owner, table))) throw oraError(955, 'name is already used by an existing object');
    stream.expectSymbol('(');
    const columns: OracleColumn[] = [];
    do {
      const column = stream.expectIdentifier().value;
      if (columns.some((c) => c.name === column)) throw oraError(957, 'duplicate column name');
      columns.push({ name: column, comment: null });
      // A table's column has a type (and maybe a size); a view's column list has names only.
      let depth = 0;
      while (!stream.atEnd() && (depth > 0 || (!stream.isSymbol(',') && !stream.isSymbol(')')))) {
        if (stream.isSymbol('(')) depth++;
        if (stream.isSymbol(')')) depth--;
        stream.next();
      }
    } while (stream.acceptSymbol(','));
    stream.expectSymbol(')');
    this.objects.set(key(owner, table), { owner, name: table, kind, comment: null, mviewComment: null, columns, grants: new Map() });
    return { kind: 'done', rowCount: 0 };
  }

  /** GRANT priv[, priv] TO user, or GRANT priv ON obj TO user. */
  private grant(user: string, stream: TokenStream): StatementResult {
    const privileges: string[] = [];
    do {
      const words: string[] = [];
      while (!stream.atEnd() && !stream.isSymbol(',') && !stream.isKeyword('ON') && !stream.isKeyword('TO')) words.push(stream.expectIdentifier().value);
      privileges.push(words.join(' '));
    } while (stream.acceptSymbol(','));
    if (stream.acceptKeyword('ON')) {
      const object = this.resolve(user, stream.qualifiedName());
      stream.expectKeyword('TO');
      const grantee = stream.expectIdentifier().value;
      stream.expectEnd();
      if (object.owner !== user && !this.hasPrivilege(user, 'GRANT ANY OBJECT PRIVILEGE')) throw oraError(1031, 'insufficient privileges');
      const granted = object.grants.get(grantee) ?? new Set<string>();
      for (const privilege of privileges) granted.add(privilege);
      object.grants.set(grantee, granted);
      return { kind: 'done', rowCount: 0 };
    }
    stream.expectKeyword('TO');
    const grantee = this.users.get(stream.expectIdentifier().value);
    stream.expectEnd();
    if (!grantee) throw oraError(1917, 'user or role does not exist');
    if (!this.hasPrivilege(user, 'GRANT ANY PRIVILEGE')) throw oraError(1031, 'insufficient privileges');
    for (const privilege of privileges) grantee.systemPrivileges.add(privilege);
    return { kind: 'done', rowCount: 0 };
  }

  private select(user: string, tokens: Token[]): Relation {
    // USER is a function with no arguments in Oracle ("USER" in SQL Functions).
    const withUser = tokens.map((token, index): Token =>
      token.kind === 'ident' && !token.quoted && token.value === 'USER' && tokens[index + 1]?.value !== '.' ? { kind: 'string', value: user, pos: token.pos } : token,
    );
    const stream = new TokenStream(withUser, syntaxError);
    const query = parseQuery(stream);
    stream.expectEnd();
    return evaluateQuery(query, {
      resolve: (source) => this.view(user, source),
      unknownColumn: (name) => oraError(904, `"${name}": invalid identifier`),
    });
  }

  /** The dictionary views a user can read, over the objects accessible to it. */
  private view(user: string, source: Source): Relation {
    if (source.kind !== 'table') throw oraError(942, 'table or view does not exist');
    const name = source.name.length === 2 && source.name[0] === 'SYS' ? source.name[1] : source.name.length === 1 ? source.name[0] : undefined;
    const accessible = [...this.objects.values()].filter((object) => this.visible(user, object));
    switch (name) {
      case 'DUAL':
        return { columns: ['DUMMY'], rows: [['X']] };
      case 'ALL_USERS':
        // ORACLE_MAINTAINED (12c+): Y for the users the database creates for itself.
        return { columns: ['USERNAME', 'ORACLE_MAINTAINED'], rows: [...this.users.keys()].map((username) => [username, username === ADMIN ? 'Y' : 'N']) };
      case 'ALL_TAB_COMMENTS':
        // A materialized view is listed by its container table, of type TABLE.
        return {
          columns: ['OWNER', 'TABLE_NAME', 'TABLE_TYPE', 'COMMENTS'],
          rows: accessible.map((o) => [o.owner, o.name, o.kind === 'VIEW' ? 'VIEW' : 'TABLE', o.comment]),
        };
      case 'ALL_MVIEW_COMMENTS':
        return {
          columns: ['OWNER', 'MVIEW_NAME', 'COMMENTS'],
          rows: accessible.filter((o) => o.kind === 'MATERIALIZED VIEW').map((o) => [o.owner, o.name, o.mviewComment]),
        };
      case 'ALL_COL_COMMENTS': {
        const rows: Value[][] = [];
        for (const object of accessible) for (const column of object.columns) rows.push([object.owner, object.name, column.name, column.comment]);
        return { columns: ['OWNER', 'TABLE_NAME', 'COLUMN_NAME', 'COMMENTS'], rows };
      }
      default:
        throw oraError(942, 'table or view does not exist');
    }
  }
}

function key(owner: string, name: string): string {
  return `"${owner}"."${name}"`;
}

/** Binds become literals, in the order the placeholders appear (a repeated name takes one value). */
function bindValues(tokens: Token[], binds: readonly (string | null)[]): Token[] {
  const positions = new Map<string, number>();
  return tokens.map((token): Token => {
    if (token.kind !== 'bind') return token;
    let position = positions.get(token.value);
    if (position === undefined) positions.set(token.value, (position = positions.size));
    if (position >= binds.length) throw oraError(1008, 'not all variables bound');
    const value = binds[position];
    return value === null || value === undefined ? { kind: 'ident', value: 'NULL', quoted: false, pos: token.pos } : { kind: 'string', value, pos: token.pos };
  });
}
