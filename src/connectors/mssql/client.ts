/**
 * The mssql client (on tedious), loaded only when a SQL Server service connects: one pool of one
 * connection per database, so the session-owned apply lock (sp_getapplock) and the writes share a
 * connection; each batch of operations is one transaction (SET XACT_ABORT ON: any error rolls the
 * whole batch back, and its operations are then run one by one so each failure is reported).
 */
import type { CatalogSnapshot, Operation, OperationResult } from '../../core/model.js';
import { MetaformError } from '../../core/errors.js';
import { importDriver } from '../shared/driver.js';
import { errorMessage, withRetry, type RetryPolicy } from '../shared/execute.js';
import { pollApplyLock } from '../shared/lock.js';
import type { ConnectorSession, ExecuteRequest, ReadRequest, ServiceConfig } from '../types.js';
import { readMssqlDatabase } from './catalog.js';
import { tagPrefixOf } from './dialect.js';

/** The part of the mssql package metaform uses (it ships no type declarations). */
interface MssqlRequest {
  arrayRowMode: boolean;
  input(name: string, type: unknown, value: unknown): MssqlRequest;
  query(sql: string): Promise<{ recordset?: unknown[][] }>;
  batch(sql: string): Promise<unknown>;
  execute(procedure: string): Promise<{ returnValue: number }>;
}
interface MssqlPool {
  connect(): Promise<MssqlPool>;
  request(): MssqlRequest;
  close(): Promise<void>;
  on(event: 'error', listener: (error: unknown) => void): void;
}
interface MssqlDriver {
  ConnectionPool: new (config: Record<string, unknown>) => MssqlPool;
  NVarChar: (length: number) => unknown;
  Int: unknown;
}

let driver: Promise<MssqlDriver> | undefined;
function loadDriver(): Promise<MssqlDriver> {
  driver ??= importDriver('mssql', () => import('mssql') as Promise<unknown>).then((module) => {
    const loaded = module as MssqlDriver & { default?: MssqlDriver };
    return loaded.default ?? loaded;
  });
  return driver;
}

/** tedious/mssql codes of a connection that is gone (the server rolled back its transaction). */
const LOST_CODES = new Set(['ESOCKET', 'ECONNCLOSED', 'ECONNRESET', 'ETIMEOUT', 'ENOTOPEN', 'ECONNREFUSED', 'EPIPE']);
/** Deadlock victim, lock request timeout: worth sending again. */
const RETRY_NUMBERS = new Set([1205, 1222]);

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

export function isConnectionLost(error: unknown): boolean {
  return LOST_CODES.has(codeOf(error)) || /connection (?:is )?closed|socket hang up|Connection lost/i.test(errorMessage(error));
}

export const MSSQL_RETRY: RetryPolicy = {
  attempts: 3,
  backoffMs: 200,
  isTransient: (error) => isConnectionLost(error) || RETRY_NUMBERS.has(Number((error as { number?: unknown } | null)?.number)),
};

/** Operations per round trip and transaction; a failed batch is replayed operation by operation. */
const BATCH_SIZE = 500;
const LOCK_RESOURCE = 'metaform apply';

/** Server, instance or port, database and user as mssql will use them, never the password. */
export function describeMssqlTarget(service: ServiceConfig, database?: string): string {
  const connection = service.connection as { server?: unknown; port?: unknown; user?: unknown; database?: unknown; options?: { instanceName?: unknown }; authentication?: { type?: unknown } };
  const host = typeof connection.server === 'string' ? connection.server : '(no server)';
  const instance = connection.options?.instanceName;
  const where = typeof instance === 'string' ? `${host}\\${instance}` : `${host}:${typeof connection.port === 'number' || typeof connection.port === 'string' ? connection.port : 1433}`;
  const db = database ?? (typeof connection.database === 'string' ? connection.database : undefined);
  const who = typeof connection.user === 'string' ? ` as ${connection.user}` : typeof connection.authentication?.type === 'string' ? ` with ${connection.authentication.type}` : '';
  return `${where}${db ? `, database ${db}` : ''}${who}`;
}

interface DatabaseConnection {
  pool: MssqlPool;
  /** The server process id of the connection that holds the apply lock, when it is held. */
  lockedSpid?: number;
}

export class MssqlSession implements ConnectorSession {
  private readonly connections = new Map<string, Promise<DatabaseConnection>>();

  private constructor(private readonly service: ServiceConfig) {}

  static async open(service: ServiceConfig): Promise<MssqlSession> {
    const session = new MssqlSession(service);
    const database = service.connection['database'];
    await session.connection(typeof database === 'string' ? database : 'master');
    return session;
  }

  private connection(database: string): Promise<DatabaseConnection> {
    let connection = this.connections.get(database);
    if (!connection) {
      connection = this.connect(database);
      this.connections.set(database, connection);
      connection.catch(() => this.connections.delete(database));
    }
    return connection;
  }

  private async connect(database: string): Promise<DatabaseConnection> {
    const sql = await loadDriver();
    const configured = this.service.connection as Record<string, unknown>;
    const options = (configured['options'] ?? {}) as Record<string, unknown>;
    const config = {
      ...configured,
      database,
      options: { ...options },
      // One connection: the session-owned apply lock must be on the connection that writes.
      pool: { ...((configured['pool'] ?? {}) as Record<string, unknown>), max: 1, min: 0 },
    };
    const outcome = await withRetry(MSSQL_RETRY, async () => {
      const pool = new sql.ConnectionPool(config);
      pool.on('error', () => undefined); // a dropped idle connection must not crash the process
      try {
        return await pool.connect();
      } catch (error) {
        await pool.close().catch(() => undefined);
        throw error;
      }
    });
    if (outcome.value) return { pool: outcome.value };
    throw new MetaformError(
      `service ${this.service.name}: cannot connect to SQL Server at ${describeMssqlTarget(this.service, database)}: ${errorMessage(outcome.error)}`,
      undefined,
      `check services.${this.service.name}.connection in metaform.yaml and the environment variables it reads`,
    );
  }

  private async rows(pool: MssqlPool, sql: string): Promise<unknown[][]> {
    const request = pool.request();
    request.arrayRowMode = true;
    const result = await request.query(sql);
    return result.recordset ?? [];
  }

  async read(request: ReadRequest): Promise<CatalogSnapshot> {
    const snapshot: CatalogSnapshot = { service: this.service.name, databases: new Map(), server: {}, databaseFacts: new Map(), queries: 0 };
    const tagPrefix = tagPrefixOf(this.service);
    let done = 0;
    for (const database of request.databases) {
      request.onProgress?.(done, request.databases.length, database);
      const { pool } = await this.connection(database);
      const outcome = await withRetry(MSSQL_RETRY, () => readMssqlDatabase((sql) => this.rows(pool, sql), request.schemas?.get(database), tagPrefix));
      if (!outcome.value)
        throw new MetaformError(`service ${this.service.name}: reading SQL Server at ${describeMssqlTarget(this.service, database)} failed: ${errorMessage(outcome.error)}`);
      snapshot.databases.set(outcome.value.database.name, outcome.value.database);
      snapshot.databaseFacts?.set(outcome.value.database.name, outcome.value.server);
      snapshot.queries += outcome.value.queries;
      request.onProgress?.(++done, request.databases.length, database);
    }
    return snapshot;
  }

  /** sp_getapplock, session-owned, without waiting: 0 or 1 is granted. */
  private async tryLock(connection: DatabaseConnection): Promise<boolean> {
    const sql = await loadDriver();
    const result = await connection.pool
      .request()
      .input('Resource', sql.NVarChar(255), LOCK_RESOURCE)
      .input('LockMode', sql.NVarChar(32), 'Exclusive')
      .input('LockOwner', sql.NVarChar(32), 'Session')
      .input('LockTimeout', sql.Int, 0)
      .execute('sp_getapplock');
    if (result.returnValue < 0) return false;
    const [row] = await this.rows(connection.pool, 'SELECT @@SPID');
    connection.lockedSpid = Number(row?.[0]);
    return true;
  }

  async lock(database: string, timeoutMs: number): Promise<void> {
    const connection = await this.connection(database);
    await pollApplyLock(() => this.tryLock(connection), { service: this.service.name, database, timeoutMs });
  }

  /** After a reconnect the pool's connection is new and the lock went with the old one: take it again. */
  private async ensureLock(database: string, connection: DatabaseConnection): Promise<void> {
    if (connection.lockedSpid === undefined) return;
    const [row] = await this.rows(connection.pool, 'SELECT @@SPID');
    if (Number(row?.[0]) === connection.lockedSpid) return;
    if (!(await this.tryLock(connection)))
      throw new LockLost(`reconnected to database ${database}, but another metaform apply took its lock meanwhile; the rest was not run`);
  }

  async execute(request: ExecuteRequest): Promise<OperationResult[]> {
    const results: OperationResult[] = [];
    const report = (result: OperationResult) => {
      results.push(result);
      request.onResult?.(result);
    };
    const notRun = (error: string) => {
      for (let i = results.length; i < request.operations.length; i++)
        report({ operationId: (request.operations[i] as Operation).id, outcome: 'not-run', error, durationMs: 0, attempts: 0 });
    };
    const connection = await this.connection(request.database);
    for (let start = 0; start < request.operations.length; start += BATCH_SIZE) {
      if (request.signal?.aborted) {
        notRun('interrupted');
        break;
      }
      try {
        await this.runBatch(request.database, connection, request.operations.slice(start, start + BATCH_SIZE), report);
      } catch (error) {
        notRun(error instanceof LockLost ? `not run: ${error.message}` : `not run: SQL Server database ${request.database} is unreachable (${errorMessage(error)})`);
        break;
      }
    }
    return results;
  }

  /**
   * The batch as one transaction in one round trip; results are reported once it committed. If it
   * fails it was rolled back whole, and each operation runs in its own transaction.
   */
  private async runBatch(database: string, connection: DatabaseConnection, batch: Operation[], report: (result: OperationResult) => void): Promise<void> {
    const started = performance.now();
    const whole = await this.send(database, connection, batch);
    if (whole.error === undefined) {
      const each = (performance.now() - started) / batch.length;
      for (const operation of batch) report({ operationId: operation.id, outcome: 'succeeded', durationMs: each, attempts: whole.attempts });
      return;
    }
    if (whole.error instanceof LockLost || (isConnectionLost(whole.error) && whole.attempts >= MSSQL_RETRY.attempts)) throw whole.error;
    for (const operation of batch) {
      const opStarted = performance.now();
      const outcome = await this.send(database, connection, [operation]);
      if (outcome.error instanceof LockLost) throw outcome.error;
      report({
        operationId: operation.id,
        outcome: outcome.error === undefined ? 'succeeded' : 'failed',
        durationMs: performance.now() - opStarted,
        attempts: outcome.attempts,
        ...(outcome.error === undefined ? {} : { error: errorMessage(outcome.error) }),
      });
    }
  }

  private send(database: string, connection: DatabaseConnection, operations: readonly Operation[]): Promise<{ error?: unknown; attempts: number }> {
    const statements = operations.flatMap((operation) => operation.statements);
    const script = ['SET XACT_ABORT ON;', 'BEGIN TRANSACTION;', ...statements.map((statement) => `${statement};`), 'COMMIT TRANSACTION;'].join('\n');
    return withRetry({ ...MSSQL_RETRY, isTransient: (error) => !(error instanceof LockLost) && MSSQL_RETRY.isTransient(error) }, async () => {
      await this.ensureLock(database, connection);
      await connection.pool.request().batch(script);
    });
  }

  async close(): Promise<void> {
    const connections = await Promise.allSettled(this.connections.values());
    this.connections.clear();
    // Closing the connection releases its session-owned apply lock.
    await Promise.all(connections.map((settled) => (settled.status === 'fulfilled' ? settled.value.pool.close().catch(() => undefined) : undefined)));
  }
}

class LockLost extends Error {
  override name = 'LockLost';
}
