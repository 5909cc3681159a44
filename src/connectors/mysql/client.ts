import mysql from 'mysql2/promise';
import type { CatalogSnapshot, Change, OperationResult } from '../../core/model.js';
import { findLive } from '../../core/model.js';
import { CannotContinue, errorMessage, runEachOperation, withRetry, type RetryPolicy } from '../shared/execute.js';
import type { ConnectorSession, ExecuteRequest, ReadRequest, ServiceConfig } from '../types.js';
import { readMysqlCatalog, showCreateTableSql } from './catalog.js';
import { columnDefinitions, modifiedColumns, withJsonKeyword, withoutComment } from './column-definition.js';

/**
 * Lost connections (the session reconnects before the next attempt), lock wait timeouts and
 * deadlocks: the same ALTER may well succeed next time. 1927 is MariaDB's "connection killed",
 * 2006/2013 the client's "server gone away" / "lost connection".
 */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'ETIMEDOUT',
  'ER_CONNECTION_KILLED',
  'ER_SERVER_SHUTDOWN',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_NOWAIT',
]);
const TRANSIENT_ERRNOS = new Set([1205, 1213, 1927, 2006, 2013]);
/** Nothing answers at the address: the server is down or gone, not busy. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

interface DriverError {
  code?: unknown;
  errno?: unknown;
  fatal?: unknown;
  syscall?: unknown;
}
const driverError = (error: unknown): DriverError => (typeof error === 'object' && error !== null ? (error as DriverError) : {});

/** The connection, not the statement, failed: mysql2 marks such errors fatal. */
const isConnectionError = (error: unknown) => driverError(error).fatal === true;

/** Errors of a failed reconnect: whatever their cause, the session has no connection to run on. */
const reconnectFailures = new WeakSet<object>();

const isUnreachable = (error: unknown) => {
  const { code, syscall } = driverError(error);
  if (typeof error === 'object' && error !== null && reconnectFailures.has(error)) return true;
  return typeof code === 'string' && (UNREACHABLE_CODES.has(code) || (code === 'ETIMEDOUT' && syscall === 'connect'));
};

export const MYSQL_RETRY: RetryPolicy = {
  attempts: 3,
  backoffMs: 300,
  isTransient: (error) => {
    if (error instanceof CannotContinue) return false;
    const { code, errno } = driverError(error);
    return isConnectionError(error) || TRANSIENT_CODES.has(String(code)) || TRANSIENT_ERRNOS.has(Number(errno)) || isUnreachable(error);
  },
  isUnreachable,
};

/** Modes that change how identifiers and literals are quoted. */
const UNSAFE_MODES = new Set(['ANSI_QUOTES', 'NO_BACKSLASH_ESCAPES', 'ANSI']);

/** GET_LOCK names are server-wide: one metaform apply at a time per server. */
const APPLY_LOCK = 'metaform_apply';

/**
 * Host, port and user as mysql2 will use them, never the password: mysql2 fills the fields left
 * unset from `uri` (set fields win), so the message names the server it really dialled.
 */
export function describeMysqlTarget(service: ServiceConfig): string {
  const { host, port, user, uri } = service.connection as { host?: string; port?: number | string; user?: string; uri?: string };
  let fromUri: URL | undefined;
  try {
    fromUri = typeof uri === 'string' ? new URL(uri) : undefined;
  } catch {
    fromUri = undefined;
  }
  const uriHost = fromUri ? decodeURIComponent(fromUri.hostname.replace(/^\[(.*)\]$/, '$1')) : '';
  const uriUser = fromUri ? decodeURIComponent(fromUri.username) : '';
  const who = user || uriUser;
  return `${host || uriHost || '127.0.0.1'}:${port || fromUri?.port || 3306}${who ? ` as ${who}` : ''}`;
}

function describeHost(service: ServiceConfig): string {
  const { host = '127.0.0.1', port = 3306 } = service.connection as { host?: string; port?: number };
  return `${host}:${port}`;
}

/**
 * A connection whose quoting rules are known: ANSI_QUOTES and NO_BACKSLASH_ESCAPES are turned off,
 * whatever the server's default, so that quoting, and SHOW CREATE TABLE lines restated verbatim,
 * mean what they say. ANSI is a combination mode that includes ANSI_QUOTES, so it goes too.
 */
async function openConnection(service: ServiceConfig, onLost: () => void): Promise<mysql.Connection> {
  const connection = await mysql.createConnection({
    ...(service.connection as mysql.ConnectionOptions),
    charset: 'utf8mb4',
    multipleStatements: false,
  });
  // A lost connection is reported on the statement that finds it; the event itself needs a
  // listener, or mysql2 rethrows it from the socket.
  connection.on('error', onLost);
  connection.on('end', onLost);
  try {
    const [[modes]] = (await connection.query({ sql: 'SELECT @@SESSION.sql_mode', rowsAsArray: true })) as unknown as [[[string]]];
    const kept = String(modes[0] ?? '').split(',').filter((mode) => mode && !UNSAFE_MODES.has(mode));
    await connection.query('SET SESSION sql_mode = ?', [kept.join(',')]);
  } catch (error) {
    await connection.end().catch(() => undefined);
    throw error;
  }
  return connection;
}

export class MysqlSession implements ConnectorSession {
  /** Set when the connection is lost: the next statement opens a new one first. */
  private lost = false;
  /** The apply lock's timeout, once lock() took it: taken again on every new connection. */
  private lockTimeoutMs: number | undefined;
  /** A reconnect in progress, shared by the statements that wait for it. */
  private reconnecting: Promise<void> | undefined;
  /** Set when the session lost its apply lock with its connection: it runs nothing more. */
  private stopped: CannotContinue | undefined;

  private constructor(
    private readonly service: ServiceConfig,
    private connection: mysql.Connection,
  ) {}

  static async open(service: ServiceConfig): Promise<MysqlSession> {
    const opened: { session?: MysqlSession } = {};
    const connection = await openConnection(service, () => opened.session?.markLost(connection));
    opened.session = new MysqlSession(service, connection);
    return opened.session;
  }

  private markLost(connection: mysql.Connection): void {
    if (connection === this.connection) this.lost = true;
  }

  /** A new connection with the session's sql_mode, holding the apply lock again if the session held it. */
  private reconnect(): Promise<void> {
    this.reconnecting ??= (async () => {
      const old = this.connection;
      old.destroy();
      let connection: mysql.Connection;
      try {
        connection = await openConnection(this.service, () => this.markLost(connection));
      } catch (error) {
        if (typeof error === 'object' && error !== null) reconnectFailures.add(error);
        throw error;
      }
      this.connection = connection;
      this.lost = false;
      if (this.lockTimeoutMs !== undefined) {
        try {
          await this.acquireLock(this.lockTimeoutMs);
        } catch (error) {
          // Without the lock, another apply may be running: nothing more may run on this session.
          this.lockTimeoutMs = undefined;
          throw new CannotContinue(`the connection to ${describeHost(this.service)} was lost and the apply lock could not be taken again: ${errorMessage(error)}`);
        }
      }
    })().finally(() => {
      this.reconnecting = undefined;
    });
    return this.reconnecting;
  }

  /** Every statement goes through here: on a lost connection, reconnect first. */
  private async query(options: mysql.QueryOptions): Promise<unknown> {
    if (this.stopped) throw this.stopped;
    if (this.lost) {
      try {
        await this.reconnect();
      } catch (error) {
        if (error instanceof CannotContinue) this.stopped = error;
        throw error;
      }
    }
    try {
      const [rows] = await this.connection.query(options);
      return rows;
    } catch (error) {
      if (isConnectionError(error)) this.lost = true;
      throw error;
    }
  }

  private async rows(sql: string, values: unknown[]): Promise<unknown[][]> {
    return (await this.query({ sql, values, rowsAsArray: true })) as unknown[][];
  }

  /** Each catalog query is retried like an ALTER (on a new connection if it was lost); failing that, the error names the service and host. */
  read(request: ReadRequest): Promise<CatalogSnapshot> {
    const [database = ''] = request.databases;
    const rows = async (sql: string, values: unknown[]) => {
      const outcome = await withRetry(MYSQL_RETRY, () => this.rows(sql, values));
      if (outcome.error !== undefined)
        throw new Error(
          `service ${this.service.name}: cannot read the catalog of MySQL/MariaDB at ${describeMysqlTarget(this.service)} ` +
            `(${outcome.attempts} attempt${outcome.attempts > 1 ? 's' : ''}): ${errorMessage(outcome.error)}`,
          { cause: outcome.error },
        );
      return outcome.value ?? [];
    };
    return readMysqlCatalog(this.service.name, rows, request.databases, request.schemas?.get(database));
  }

  private async showCreateTable(schema: string, table: string): Promise<string> {
    const [row] = await this.rows(showCreateTableSql(schema, table), []);
    return String(row?.[1] ?? '');
  }

  /** SHOW CREATE TABLE for each table whose column comments change (views have no column comments). */
  async prepare(changes: readonly Change[], snapshot: CatalogSnapshot): Promise<void> {
    const tables = new Map<string, string[]>();
    for (const change of changes)
      if (change.level === 'column' && change.property === 'description') tables.set(JSON.stringify(change.path.slice(0, 3)), change.path.slice(0, 3));
    for (const path of tables.values()) {
      const table = findLive(snapshot, path);
      if (!table || table.facts?.['tableType'] === 'VIEW') continue;
      table.facts = { ...table.facts, createTable: await this.showCreateTable(path[1] ?? '', path[2] ?? '') };
      snapshot.queries++;
    }
  }

  private async acquireLock(timeoutMs: number): Promise<void> {
    // GET_LOCK takes seconds; MariaDB and MySQL accept fractions.
    const [[granted] = []] = await this.rows('SELECT GET_LOCK(?, ?)', [APPLY_LOCK, timeoutMs / 1000]);
    if (Number(granted) !== 1)
      throw new Error(
        `another metaform apply is running on ${describeHost(this.service)} (it holds the lock ${APPLY_LOCK}); ` +
          `retry later, once it has finished`,
      );
  }

  /**
   * GET_LOCK on the session's connection: the server frees it when the connection closes or is
   * lost, so a reconnect takes it again before any other statement.
   */
  async lock(_database: string, timeoutMs: number): Promise<void> {
    await this.acquireLock(timeoutMs);
    this.lockTimeoutMs = timeoutMs;
  }

  execute(request: ExecuteRequest): Promise<OperationResult[]> {
    // DDL commits implicitly in MySQL: each ALTER is its own unit, reported on its own.
    return runEachOperation(request.operations, (sql) => this.run(sql), MYSQL_RETRY, {
      ...(request.onResult ? { onResult: request.onResult } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
      target: `MySQL/MariaDB at ${describeMysqlTarget(this.service)}`,
    });
  }

  /**
   * Before an ALTER that restates columns, the columns must still be defined as when the plan was
   * made (but for the comment): otherwise restating them would undo someone else's change.
   */
  private async run(sql: string): Promise<void> {
    const restated = modifiedColumns(sql);
    if (restated.size > 0) {
      const target = /^ALTER TABLE (`(?:[^`]|``)*`)\.(`(?:[^`]|``)*`) /.exec(sql);
      const unquote = (name: string) => name.slice(1, -1).replaceAll('``', '`');
      if (!target?.[1] || !target[2]) throw new Error('cannot tell which table the statement alters');
      const current = columnDefinitions(await this.showCreateTable(unquote(target[1]), unquote(target[2])));
      for (const [column, definition] of restated) {
        const now = current.get(column);
        // The statement may spell a MariaDB JSON column with the json keyword; compare like with like.
        if (now === undefined || withoutComment(withJsonKeyword(now)) !== withoutComment(withJsonKeyword(definition)))
          throw new Error(
            `column ${column} is no longer defined as when the plan was made (now: ${now ?? 'missing'}); not altered, plan again`,
          );
      }
    }
    try {
      await this.query({ sql });
    } catch (error) {
      const code = driverError(error).code;
      if (code === 'ER_ALTER_OPERATION_NOT_SUPPORTED' || code === 'ER_ALTER_OPERATION_NOT_SUPPORTED_REASON')
        throw new Error(
          `${(error as Error).message}: the server would copy the whole table to change these comments, so metaform did not (ALGORITHM=INSTANT); ` +
            'change them by hand in a maintenance window, or leave them out of the YAML',
          { cause: error },
        );
      throw error;
    }
  }

  async close(): Promise<void> {
    this.lockTimeoutMs = undefined;
    if (this.lost) {
      this.connection.destroy();
      return;
    }
    await this.connection.end();
  }
}
