import mysql from 'mysql2/promise';
import type { CatalogSnapshot, Change, OperationResult } from '../../core/model.js';
import { findLive } from '../../core/model.js';
import { runEachOperation, type RetryPolicy } from '../shared/execute.js';
import type { ConnectorSession, ExecuteRequest, ReadRequest, ServiceConfig } from '../types.js';
import { readMysqlCatalog, showCreateTableSql } from './catalog.js';
import { columnDefinitions, modifiedColumns, withJsonKeyword, withoutComment } from './column-definition.js';

/** Lost connections, lock wait timeouts and deadlocks: the same ALTER may well succeed next time. */
const TRANSIENT = new Set(['ECONNRESET', 'PROTOCOL_CONNECTION_LOST', 'ETIMEDOUT', 'ER_LOCK_WAIT_TIMEOUT', 'ER_LOCK_DEADLOCK', 'ER_LOCK_NOWAIT']);

export const MYSQL_RETRY: RetryPolicy = {
  attempts: 3,
  backoffMs: 300,
  isTransient: (error) => TRANSIENT.has(String((error as { code?: unknown } | null)?.code)),
};

/** Modes that change how identifiers and literals are quoted. */
const UNSAFE_MODES = new Set(['ANSI_QUOTES', 'NO_BACKSLASH_ESCAPES', 'ANSI']);

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

/** A session whose quoting rules are known: ANSI_QUOTES and NO_BACKSLASH_ESCAPES are turned off. */
export class MysqlSession implements ConnectorSession {
  private constructor(
    private readonly service: ServiceConfig,
    private readonly connection: mysql.Connection,
  ) {}

  static async open(service: ServiceConfig): Promise<MysqlSession> {
    const connection = await mysql.createConnection({
      ...(service.connection as mysql.ConnectionOptions),
      charset: 'utf8mb4',
      multipleStatements: false,
    });
    try {
      // Whatever the server's default: backticks for identifiers, backslash escapes in literals,
      // so that quoting, and SHOW CREATE TABLE lines restated verbatim, mean what they say.
      // ANSI is a combination mode that includes ANSI_QUOTES, so it goes too.
      const [[modes]] = (await connection.query({ sql: 'SELECT @@SESSION.sql_mode', rowsAsArray: true })) as unknown as [[[string]]];
      const kept = String(modes[0] ?? '').split(',').filter((mode) => mode && !UNSAFE_MODES.has(mode));
      await connection.query('SET SESSION sql_mode = ?', [kept.join(',')]);
      connection.on('error', () => undefined);
    } catch (error) {
      await connection.end().catch(() => undefined);
      throw error;
    }
    return new MysqlSession(service, connection);
  }

  private async rows(sql: string, values: unknown[]): Promise<unknown[][]> {
    const [rows] = await this.connection.query({ sql, values, rowsAsArray: true });
    return rows as unknown[][];
  }

  read(request: ReadRequest): Promise<CatalogSnapshot> {
    const [database = ''] = request.databases;
    return readMysqlCatalog(this.service.name, (sql, values) => this.rows(sql, values), request.databases, request.schemas?.get(database));
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

  execute(request: ExecuteRequest): Promise<OperationResult[]> {
    // DDL commits implicitly in MySQL: each ALTER is its own unit, reported on its own.
    return runEachOperation(request.operations, (sql) => this.run(sql), MYSQL_RETRY, request.onResult);
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
      await this.connection.query(sql);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'ER_ALTER_OPERATION_NOT_SUPPORTED' || code === 'ER_ALTER_OPERATION_NOT_SUPPORTED_REASON')
        throw new Error(
          `${(error as Error).message}: the server would copy the whole table to change these comments, so metaform did not (ALGORITHM=INSTANT); ` +
            'change them by hand in a maintenance window, or leave them out of the YAML',
          { cause: error },
        );
      throw error;
    }
  }

  close(): Promise<void> {
    return this.connection.end();
  }
}
