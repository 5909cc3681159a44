import type { CatalogSnapshot, OperationResult } from '../../core/model.js';
import { importDriver } from '../shared/driver.js';
import { errorMessage, runEachOperation, withRetry, type RetryPolicy } from '../shared/execute.js';
import type { ConnectorSession, ExecuteRequest, ReadRequest, ServiceConfig } from '../types.js';
import { ORACLE_DATABASE, readOracleCatalog } from './catalog.js';

type OracleDb = typeof import('oracledb');
type Connection = import('oracledb').Connection;

/**
 * The connection is gone (node-oracledb's NJS-500 "connection to the Oracle Database was
 * broken", NJS-503 "connection ... closed", ORA-03113/03114/03135 end-of-file / not connected /
 * lost contact, and the socket's own errors): reconnect and try again.
 */
const LOST = /NJS-50[0-9]|NJS-003|ORA-0311[34]|ORA-03135|ORA-12537|ORA-12547|ECONNRESET|EPIPE|socket hang up/;
/** Nothing answers at the address. */
const UNREACHABLE = /NJS-50[13]\b.*(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH)|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH/;

/** Rows per round trip when reading the catalog. */
const FETCH_ROWS = 10_000;

export const ORACLE_RETRY: RetryPolicy = {
  attempts: 3,
  backoffMs: 200,
  isTransient: (error) => LOST.test(errorMessage(error)),
  isUnreachable: (error) => UNREACHABLE.test(errorMessage(error)),
};

/** `Oracle at host:port/service as user`: the connect string and user, never the password. */
export function describeOracleTarget(service: ServiceConfig): string {
  const { connectString, connectionString, user, username } = service.connection as Record<string, unknown>;
  const target = typeof connectString === 'string' ? connectString : typeof connectionString === 'string' ? connectionString : '(no connectString)';
  const who = typeof user === 'string' ? user : typeof username === 'string' ? username : undefined;
  // A TNS descriptor can be long: its HOST, PORT and SERVICE_NAME say where it goes.
  const short = target.startsWith('(') ? ['HOST', 'PORT', 'SERVICE_NAME'].map((key) => new RegExp(`\\(${key}=([^)]*)\\)`, 'i').exec(target)?.[1]).filter(Boolean).join(':') : target;
  return `Oracle at ${short}${who ? ` as ${who}` : ''}`;
}

export class OracleSession implements ConnectorSession {
  private connection: Connection | undefined;

  private constructor(
    private readonly service: ServiceConfig,
    private readonly driver: OracleDb,
  ) {}

  static async open(service: ServiceConfig): Promise<OracleSession> {
    const imported = await importDriver('oracledb', () => import('oracledb'));
    const driver = ((imported as { default?: OracleDb }).default ?? imported) as OracleDb;
    const session = new OracleSession(service, driver);
    try {
      await session.connect();
    } catch (error) {
      throw new Error(`service ${service.name}: cannot connect to ${describeOracleTarget(service)}: ${errorMessage(error)}`, { cause: error });
    }
    return session;
  }

  private async connect(): Promise<Connection> {
    const { connectString, connectionString, user, username, password, ...rest } = this.service.connection as Record<string, unknown>;
    this.connection = await this.driver.getConnection({
      ...(rest as object),
      user: (user ?? username) as string,
      password: password as string,
      connectString: (connectString ?? connectionString) as string,
    });
    return this.connection;
  }

  /** One statement; after a lost connection, a new one first (COMMENT is idempotent, so a retry is safe). */
  private async run(sql: string, binds: readonly string[] = []): Promise<unknown[][]> {
    const connection = this.connection ?? (await this.connect());
    try {
      // Catalog reads are bulk: large fetches keep the round trips few (the default is 100 rows).
      const result = await connection.execute(sql, [...binds], { outFormat: this.driver.OUT_FORMAT_ARRAY, autoCommit: true, fetchArraySize: FETCH_ROWS });
      return (result.rows ?? []) as unknown[][];
    } catch (error) {
      if (LOST.test(errorMessage(error))) {
        this.connection = undefined;
        await connection.close().catch(() => undefined);
      }
      throw error;
    }
  }

  async read(request: ReadRequest): Promise<CatalogSnapshot> {
    const version = (this.connection ?? (await this.connect())).oracleServerVersionString;
    return readOracleCatalog(
      this.service.name,
      async (sql, binds) => {
        const outcome = await withRetry(ORACLE_RETRY, () => this.run(sql, binds));
        if (outcome.error !== undefined)
          throw new Error(
            `service ${this.service.name}: cannot read the catalog of ${describeOracleTarget(this.service)} ` +
              `(${outcome.attempts} attempt${outcome.attempts > 1 ? 's' : ''}): ${errorMessage(outcome.error)}`,
            { cause: outcome.error },
          );
        return outcome.value ?? [];
      },
      request.databases,
      request.schemas?.get(ORACLE_DATABASE),
      version,
    );
  }

  /** Oracle DDL commits on its own: each operation is one statement, reported (and journaled) as it ends. */
  execute(request: ExecuteRequest): Promise<OperationResult[]> {
    return runEachOperation(request.operations, (sql) => this.run(sql), ORACLE_RETRY, {
      ...(request.onResult ? { onResult: request.onResult } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
      target: describeOracleTarget(this.service),
    });
  }

  async close(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
    this.connection = undefined;
  }
}
