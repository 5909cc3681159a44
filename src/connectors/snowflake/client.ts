import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection, ConnectionOptions } from 'snowflake-sdk';
import { MetaformError } from '../../core/errors.js';
import { type CatalogSnapshot, type Change, type JsonValue, type LiveObject, type OperationResult } from '../../core/model.js';
import { retried, runEachOperation, type RetryPolicy } from '../shared/execute.js';
import type { ConnectorSession, ExecuteRequest, ReadRequest, ServiceConfig } from '../types.js';
import { readSnowflakeDatabase, type TagReading } from './catalog.js';
import { nameToRead, storedName, tagSchemaOf } from './names.js';
import { checkTagObjects, confirmTagsInRealTime, keepOnly, readTagsInRealTime, type TagContext } from './tags.js';
import { importDriver } from '../shared/driver.js';

type SnowflakeSdk = typeof import('snowflake-sdk');

/**
 * Lock waits, statement timeouts and lost connections (codes as the service and the driver
 * report them): the same DDL may well succeed next time. Syntax, privilege and missing-object
 * errors are not retried.
 */
const TRANSIENT = new Set(['000625', '000630', '000604', '390114', '401001', '401002', '401003', 'ECONNRESET', 'ETIMEDOUT']);

export const SNOWFLAKE_RETRY: RetryPolicy = {
  attempts: 3,
  backoffMs: 500,
  isTransient: (error) => TRANSIENT.has(String((error as { code?: unknown } | null)?.code)),
};

let driver: Promise<SnowflakeSdk> | undefined;

/**
 * snowflake-sdk probes cloud metadata addresses, sends a connection-shape telemetry event and
 * creates ~/.cache/snowflake when it loads, unless told not to by environment variables read at
 * load time; so it is loaded only here, once those are in place (a user who set them keeps
 * their values), and configured to ignore proxy variables and log nothing.
 */
export function loadSnowflakeDriver(): Promise<SnowflakeSdk> {
  driver ??= (async () => {
    process.env['SNOWFLAKE_DISABLE_PLATFORM_DETECTION'] ??= 'true';
    process.env['SF_TELEMETRY_DISABLE_CONNECTION_SHAPE'] ??= '1';
    if (process.env['SF_OCSP_RESPONSE_CACHE_DIR'] === undefined) {
      const cache = join(tmpdir(), 'metaform-snowflake-cache');
      mkdirSync(cache, { recursive: true });
      process.env['SF_OCSP_RESPONSE_CACHE_DIR'] = cache;
    }
    const module = (await importDriver('snowflake-sdk', () => import('snowflake-sdk'))) as SnowflakeSdk & { default?: SnowflakeSdk };
    const sdk = module.default ?? module;
    sdk.configure({ logLevel: 'OFF', useEnvProxy: false, additionalLogToConsole: false });
    return sdk;
  })();
  return driver;
}

const PASSED_THROUGH = ['account', 'password', 'warehouse', 'role', 'database', 'schema', 'host', 'port', 'protocol', 'accessUrl', 'region', 'application', 'timeout', 'privateKey', 'privateKeyPath', 'privateKeyPass', 'token', 'authenticator'] as const;

/** snowflake-sdk's options from the service's connection: key pair when a private key is given, OAuth with a token, else password. */
export function connectionOptions(service: ServiceConfig): ConnectionOptions {
  const connection = service.connection as Record<string, unknown>;
  const options: Record<string, unknown> = {};
  for (const key of PASSED_THROUGH) if (connection[key] !== undefined && connection[key] !== null) options[key] = connection[key];
  options['username'] = connection['user'] ?? connection['username'];
  if (options['authenticator'] === undefined) {
    if (options['privateKey'] !== undefined || options['privateKeyPath'] !== undefined) options['authenticator'] = 'SNOWFLAKE_JWT';
    else if (options['token'] !== undefined) options['authenticator'] = 'OAUTH';
  }
  // A PEM passed through an environment variable often arrives with its newlines written as \n.
  if (typeof options['privateKey'] === 'string') options['privateKey'] = (options['privateKey'] as string).replaceAll('\\n', '\n');
  if (options['account'] === undefined) throw new MetaformError(`service ${service.name}: connection.account is required for Snowflake`);
  return options as unknown as ConnectionOptions;
}

export class SnowflakeSession implements ConnectorSession {
  private readonly tagReading: TagReading;

  private constructor(
    private readonly service: ServiceConfig,
    private readonly connection: Connection,
  ) {
    this.tagReading = { tagSchema: tagSchemaOf(service.options), service: service.name };
  }

  static async open(service: ServiceConfig): Promise<SnowflakeSession> {
    const sdk = await loadSnowflakeDriver();
    const connection = sdk.createConnection(connectionOptions(service));
    // connectAsync() without a callback resolves even when login fails; connect(cb) reports it.
    await new Promise<void>((resolve, reject) => connection.connect((error) => (error ? reject(error) : resolve())));
    const session = new SnowflakeSession(service, connection);
    // Every name metaform renders is quoted to keep its case; an account or user that sets
    // QUOTED_IDENTIFIERS_IGNORE_CASE = TRUE would fold "Orders" to ORDERS
    // (docs.snowflake.com/en/sql-reference/parameters#quoted-identifiers-ignore-case).
    await session.query('ALTER SESSION SET QUOTED_IDENTIFIERS_IGNORE_CASE = FALSE');
    return session;
  }

  /** Rows as arrays of strings, numbers and nulls. */
  query(sqlText: string): Promise<unknown[][]> {
    return new Promise((resolve, reject) =>
      this.connection.execute({
        sqlText,
        rowMode: 'array',
        complete: (error, _statement, rows) => (error ? reject(error) : resolve((rows ?? []) as unknown[][])),
      }),
    );
  }

  async read(request: ReadRequest): Promise<CatalogSnapshot> {
    const databases: LiveObject[] = [];
    let queries = 0;
    for (const [index, name] of request.databases.entries()) {
      request.onProgress?.(index, request.databases.length, name);
      const schemas = request.schemas?.get(name)?.map(nameToRead);
      // Catalog reads retry what a statement may (lock waits, timeouts, dropped connections) as apply does.
      const query = (sql: string) => retried(SNOWFLAKE_RETRY, () => this.query(sql));
      let read = await readSnowflakeDatabase(query, nameToRead(name), schemas, this.tagReading);
      queries += read.queries;
      // Names come stored from a plan; from import's configuration they may be written as in SQL
      // (`analytics` for ANALYTICS): the folded name is tried when the exact one does not exist.
      const folded = storedName(name);
      if (!read.database && folded !== nameToRead(name)) {
        read = await readSnowflakeDatabase(query, folded, schemas, this.tagReading);
        queries += read.queries;
      }
      if (read.database) databases.push(read.database);
    }
    const snapshot: CatalogSnapshot = { service: this.service.name, databases: new Map(databases.map((database) => [database.name, database])), server: this.serverFacts(), queries };
    if (request.current?.length) await readTagsInRealTime(this.tagContext(), snapshot, request.current);
    return snapshot;
  }

  private tagContext(): TagContext {
    return { query: (sql) => retried(SNOWFLAKE_RETRY, () => this.query(sql)), service: this.service, reading: this.tagReading };
  }

  /** What rendering depends on: the tag schema that short tag keys name (templates quote keys by it). */
  private serverFacts(): Record<string, JsonValue> {
    const tagSchema = this.service.options['tagSchema'];
    return typeof tagSchema === 'string' ? { tagSchema } : {};
  }

  /**
   * After the diff, before rendering: owner changes that only respell the same role are dropped;
   * every tag object a change sets must exist (or is planned for creation with
   * options.createTags) and allow the value; and the tags of every object whose tags change are
   * read again in real time, since ACCOUNT_USAGE lags: each change's `before` is corrected, and a
   * change the object already satisfies is dropped. Changes are corrected in place.
   */
  async prepare(changes: Change[], snapshot: CatalogSnapshot): Promise<void> {
    keepOnly(changes, (change) => change.property !== 'owner' || change.after === null || storedName(change.after) !== storedName(change.before ?? ''));
    await checkTagObjects(this.tagContext(), changes, snapshot);
    await confirmTagsInRealTime(this.tagContext(), changes, snapshot);
  }

  execute(request: ExecuteRequest): Promise<OperationResult[]> {
    // Snowflake commits each DDL statement on its own: operations run side by side, each reported.
    const concurrency = typeof this.service.options['concurrency'] === 'number' ? this.service.options['concurrency'] : 8;
    // The core hands over one wave at a time (owner changes after the rest of their object); a
    // SET TAG of a tag object the plan creates carries its own CREATE TAG IF NOT EXISTS.
    const options = { concurrency, ...(request.onResult ? { onResult: request.onResult } : {}), ...(request.signal ? { signal: request.signal } : {}) };
    return runEachOperation(request.operations, (sql) => this.query(sql), SNOWFLAKE_RETRY, options);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.connection.destroy(() => resolve()));
  }
}
