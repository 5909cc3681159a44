import type { DBSQLClient } from '@databricks/sql';
import { MetaformError } from '../../core/errors.js';
import type { CatalogSnapshot, JsonValue, OperationResult } from '../../core/model.js';
import { retried, runEachOperation, type RetryPolicy } from '../shared/execute.js';
import type { ConnectorSession, ExecuteRequest, ReadRequest, ServiceConfig } from '../types.js';
import { readDatabricksCatalog, readHiveMetastore, type CatalogRead } from './catalog.js';
import { HIVE_METASTORE } from './dialect.js';
import { importDriver } from '../shared/driver.js';

type Sdk = typeof import('@databricks/sql');
type SqlSession = Awaited<ReturnType<DBSQLClient['openSession']>>;
type Logger = NonNullable<NonNullable<ConstructorParameters<typeof DBSQLClient>[0]>['logger']>;

/** The client logs each connection to the console; metaform prints its own messages. */
const SILENT: Logger = { log: () => undefined };

/** The settings metaform reads from `connection:` (everything else is refused by name). */
export interface DatabricksConnection {
  host: string;
  /** The SQL warehouse's HTTP path, e.g. /sql/1.0/warehouses/abc123. */
  path: string;
  port?: number;
  /** A personal access token, or: */
  token?: string;
  /** OAuth machine-to-machine: a service principal's client id and secret. */
  clientId?: string;
  clientSecret?: string;
  /** PEM of an extra CA certificate (a TLS-inspecting proxy; the tests' emulator). */
  caCert?: string;
  /** The session's current catalog (and what `import` reads when `databases` is not set). */
  database?: string;
}

/** The message of anything thrown (the client's StatusError is not an Error subclass). */
export function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number') return status;
  const match = /bad HTTP status code: (\d{3})/.exec(messageOf(error));
  return match ? Number(match[1]) : undefined;
}

/**
 * A warehouse that is starting or scaling (503, TEMPORARILY_UNAVAILABLE), throttling (429), a
 * gateway in between (502, 504) or a dropped connection: worth sending the same statement again.
 */
export function isTransientDatabricksError(error: unknown): boolean {
  const status = httpStatusOf(error);
  if (status !== undefined) return status === 429 || status === 502 || status === 503 || status === 504;
  return /TEMPORARILY_UNAVAILABLE|warehouse is (starting|not running)|ECONNRESET|ETIMEDOUT|socket hang up/i.test(messageOf(error));
}

export const DATABRICKS_RETRY: RetryPolicy = { attempts: 4, backoffMs: 500, isTransient: isTransientDatabricksError };

const DEFAULT_CONCURRENCY = 4;

export function connectionOf(service: ServiceConfig): DatabricksConnection {
  const connection = service.connection as Record<string, JsonValue>;
  const known = new Set(['host', 'path', 'httpPath', 'port', 'token', 'clientId', 'clientSecret', 'caCert', 'database']);
  const fix = `set services.${service.name}.connection in metaform.yaml (host, path, and token or clientId + clientSecret)`;
  for (const key of Object.keys(connection))
    if (!known.has(key)) throw new MetaformError(`service ${service.name}: unknown Databricks connection setting "${key}"`, undefined, `known settings: ${[...known].join(', ')}`);
  const text = (key: string) => (typeof connection[key] === 'string' && connection[key] !== '' ? (connection[key] as string) : undefined);
  const host = text('host')?.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  const path = text('path') ?? text('httpPath');
  if (!host || !path) throw new MetaformError(`service ${service.name}: a Databricks connection needs host and path (the SQL warehouse's HTTP path)`, undefined, fix);
  const token = text('token');
  const clientId = text('clientId');
  const clientSecret = text('clientSecret');
  if (!token && !(clientId && clientSecret))
    throw new MetaformError(`service ${service.name}: a Databricks connection needs a token, or clientId and clientSecret (OAuth machine-to-machine)`, undefined, fix);
  const port = typeof connection['port'] === 'number' ? connection['port'] : undefined;
  const caCert = text('caCert');
  const database = text('database');
  return {
    host,
    path,
    ...(port === undefined ? {} : { port }),
    ...(token ? { token } : { clientId, clientSecret }),
    ...(caCert ? { caCert } : {}),
    ...(database ? { database } : {}),
  };
}

export function describeDatabricksTarget(service: ServiceConfig): string {
  const connection = service.connection as Record<string, JsonValue>;
  const host = typeof connection['host'] === 'string' ? connection['host'] : '(no host)';
  const path = connection['path'] ?? connection['httpPath'];
  return `host ${host}${connection['port'] === undefined ? '' : `:${String(connection['port'])}`}, path ${typeof path === 'string' ? path : '(no path)'}`;
}

/** What a refused connection means, in words (the client only says "bad HTTP status code"). */
function connectProblem(error: unknown, connection: DatabricksConnection): string {
  const status = httpStatusOf(error);
  const auth = connection.token ? 'the access token' : 'the OAuth client id and secret';
  if (status === 401) return `${auth} was refused (HTTP 401)`;
  if (status === 403) return `${auth} may not use this warehouse (HTTP 403)`;
  if (status === 404) return 'no SQL warehouse answers at this HTTP path (HTTP 404)';
  return messageOf(error);
}

/** Never let a secret through into an error message, a plan or the journal. */
function redact(text: string, connection: DatabricksConnection): string {
  let safe = text;
  for (const secret of [connection.token, connection.clientSecret]) if (secret) safe = safe.replaceAll(secret, '***');
  return safe;
}

export interface DatabricksFlavour {
  displayName: string;
  /** unitycatalog refuses hive_metastore; databricks manages its descriptions. */
  allowsHiveMetastore: boolean;
}

/**
 * One SQL session on one warehouse for the whole service: statements name their catalog, so the
 * session's current catalog does not matter. The driver is loaded only here.
 */
export class DatabricksSession implements ConnectorSession {
  private constructor(
    private readonly service: ServiceConfig,
    private readonly flavour: DatabricksFlavour,
    private readonly connection: DatabricksConnection,
    private readonly client: DBSQLClient,
    private readonly session: SqlSession,
  ) {}

  static async open(service: ServiceConfig, flavour: DatabricksFlavour): Promise<DatabricksSession> {
    const connection = connectionOf(service);
    const target = `${flavour.displayName} service ${service.name} at ${describeDatabricksTarget(service)}`;
    const sdk = await loadDriver(target);
    const client = new sdk.DBSQLClient({ logger: SILENT });
    const auth = connection.token
      ? { token: connection.token }
      : // With a secret the client runs the M2M flow (never the browser one); a Databricks service
        // principal's secret works on Azure workspaces too, through the workspace's own OIDC.
        { authType: 'databricks-oauth' as const, oauthClientId: connection.clientId, oauthClientSecret: connection.clientSecret, useDatabricksOAuthInAzure: true };
    try {
      await client.connect({
        host: connection.host,
        path: connection.path,
        ...(connection.port === undefined ? {} : { port: connection.port }),
        ...(connection.caCert ? { customCaCert: Buffer.from(connection.caCert.replaceAll('\\n', '\n')) } : {}),
        telemetryEnabled: false,
        ...auth,
      } as Parameters<DBSQLClient['connect']>[0]);
      // connect() sends nothing: a bad token or path shows only when a session opens.
      const session = await client.openSession(connection.database ? { initialCatalog: connection.database } : {});
      return new DatabricksSession(service, flavour, connection, client, session);
    } catch (error) {
      await client.close().catch(() => undefined);
      throw new MetaformError(
        redact(`cannot connect to ${target}: ${connectProblem(error, connection)}`, connection),
        undefined,
        `check services.${service.name}.connection in metaform.yaml and the environment variables it reads`,
      );
    }
  }

  /** Runs one statement to its end; both ways the client reports a failure become an Error. */
  private async run(sql: string, withRows: boolean): Promise<Record<string, unknown>[]> {
    try {
      const operation = await this.session.executeStatement(sql);
      try {
        // fetchAll() alone would report a failed DDL (no result set) as success.
        await operation.finished();
        return withRows ? ((await operation.fetchAll()) as Record<string, unknown>[]) : [];
      } finally {
        await operation.close().catch(() => undefined);
      }
    } catch (error) {
      throw asError(error);
    }
  }

  /** A query, with retries of transient errors; errors name the service. */
  async query(sql: string): Promise<Record<string, unknown>[]> {
    try {
      return await retried(DATABRICKS_RETRY, () => this.run(sql, true));
    } catch (error) {
      throw new MetaformError(redact(`${this.flavour.displayName} service ${this.service.name} (${describeDatabricksTarget(this.service)}): ${messageOf(error)}`, this.connection));
    }
  }

  async read(request: ReadRequest): Promise<CatalogSnapshot> {
    const snapshot: CatalogSnapshot = { service: this.service.name, databases: new Map(), server: {}, databaseFacts: new Map(), queries: 0 };
    for (const [index, name] of request.databases.entries()) {
      request.onProgress?.(index, request.databases.length, name);
      const catalog = name.toLowerCase();
      if (catalog === HIVE_METASTORE) {
        const read = await this.readHiveMetastore(request.schemas?.get(name));
        snapshot.queries += read.queries;
        if (read.database) snapshot.databases.set(read.database.name, read.database);
        snapshot.databaseFacts?.set(HIVE_METASTORE, { catalog: HIVE_METASTORE, unity: false });
        continue;
      }
      const read = await readDatabricksCatalog((sql) => this.query(sql), catalog, request.schemas?.get(name));
      snapshot.queries += read.queries;
      if (read.database) {
        snapshot.databases.set(read.database.name, read.database);
        snapshot.databaseFacts?.set(read.database.name, { catalog: read.database.name, unity: true });
      }
    }
    request.onProgress?.(request.databases.length, request.databases.length, '');
    return snapshot;
  }

  private async readHiveMetastore(schemas: readonly string[] | undefined): Promise<CatalogRead> {
    if (!this.flavour.allowsHiveMetastore)
      throw new MetaformError(
        `service ${this.service.name}: ${HIVE_METASTORE} is the legacy Hive metastore, not a Unity Catalog catalog; the unitycatalog type manages Unity Catalog catalogs only`,
        undefined,
        `use type: databricks for ${HIVE_METASTORE} (schema, table and column descriptions only), or name a Unity Catalog catalog`,
      );
    return readHiveMetastore((sql) => this.query(sql), schemas, this.concurrency());
  }

  private concurrency(): number {
    const configured = this.service.options['concurrency'];
    return typeof configured === 'number' && configured >= 1 ? configured : DEFAULT_CONCURRENCY;
  }

  async execute(request: ExecuteRequest): Promise<OperationResult[]> {
    const concurrency = this.concurrency();
    const results: OperationResult[] = new Array<OperationResult>(request.operations.length);
    const indexOf = new Map(request.operations.map((operation, index) => [operation.id, index]));
    const runStatement = async (sql: string) => {
      if (request.signal?.aborted) throw new Interrupted();
      await this.run(sql, false);
    };
    await runEachOperation(request.operations, runStatement, DATABRICKS_RETRY, {
      concurrency,
      ...(request.signal ? { signal: request.signal } : {}),
      onResult: (result: OperationResult) => {
        const safe: OperationResult =
          result.error === undefined
            ? result
            : result.error === 'interrupted'
              ? { ...result, outcome: 'not-run', attempts: 0 }
              : { ...result, error: redact(result.error, this.connection) };
        results[indexOf.get(result.operationId) ?? 0] = safe;
        request.onResult?.(safe);
      },
    });
    return results;
  }

  async close(): Promise<void> {
    await this.session.close().catch(() => undefined);
    await this.client.close().catch(() => undefined);
  }
}

/**
 * The client's StatusError (a failed ExecuteStatement: a syntax error, an invalid handle) is not
 * an Error subclass, so the journal would print it as [object Object]: keep its message, and its
 * HTTP status for the retry decision.
 */
function asError(error: unknown): Error {
  if (error instanceof Error) return error;
  const wrapped = new Error(messageOf(error)) as Error & { statusCode?: number };
  const status = httpStatusOf(error);
  if (status !== undefined) wrapped.statusCode = status;
  return wrapped;
}

/** Thrown for a statement not started because apply was interrupted. */
class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

let driver: Promise<Sdk> | undefined;

async function loadDriver(target: string): Promise<Sdk> {
  // Telemetry is off per client too; the variable also stops the feature-flag request.
  process.env['DATABRICKS_TELEMETRY_DISABLED'] ??= '1';
  driver ??= importDriver('@databricks/sql', () => import('@databricks/sql')).then((module) => ((module as Sdk & { default?: Sdk }).default ?? module) as Sdk);
  return driver.catch((error: unknown) => {
    driver = undefined;
    throw new MetaformError(`${target}: cannot load the @databricks/sql client: ${messageOf(error)}`, undefined, 'run npm install in the directory metaform runs from');
  });
}
