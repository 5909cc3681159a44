import type { AthenaClient, AthenaClientConfig, QueryExecutionStatus } from '@aws-sdk/client-athena';
import { MetaformError } from '../../core/errors.js';
import type { CatalogSnapshot, JsonValue, OperationResult } from '../../core/model.js';
import { importDriver } from '../shared/driver.js';
import { errorMessage, runEachOperation, type RetryPolicy } from '../shared/execute.js';
import type { ConnectorSession, ExecuteRequest, ReadRequest, ServiceConfig } from '../types.js';
import { PAGE_SIZE, readAthenaCatalog, readAthenaTables, type CatalogApi, type CatalogRead, type TableMetadata } from './catalog.js';

type Sdk = typeof import('@aws-sdk/client-athena');

/** The catalog Athena names the account's Glue Data Catalog (https://docs.aws.amazon.com/athena/latest/ug/data-sources-glue.html). */
export const DEFAULT_CATALOG = 'awsdatacatalog';

/** The settings metaform reads from `connection:` (anything else is refused by name). */
export interface AthenaConnection {
  region?: string;
  /** Explicit keys; without them the AWS default credential chain (environment, profile, SSO, container, instance metadata) is used. */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** A profile of ~/.aws/config for the default chain. */
  profile?: string;
  /** Another endpoint (a VPC endpoint; the tests' emulator). */
  endpoint?: string;
  workgroup: string;
  /** s3://bucket/prefix/ for the DDL's result files, unless the workgroup enforces its own. */
  outputLocation?: string;
  /** The catalog `import` reads when `databases` is not set. */
  database?: string;
  /** The SDK's attempts per request (its standard retry mode), 3 by default. */
  maxAttempts?: number;
}

const KNOWN = ['region', 'accessKeyId', 'secretAccessKey', 'sessionToken', 'profile', 'endpoint', 'workgroup', 'outputLocation', 'database', 'maxAttempts'];

export function connectionOf(service: ServiceConfig): AthenaConnection {
  const connection = service.connection as Record<string, JsonValue>;
  for (const key of Object.keys(connection))
    if (!KNOWN.includes(key)) throw new MetaformError(`service ${service.name}: unknown Athena connection setting "${key}"`, undefined, `known settings: ${KNOWN.join(', ')}`);
  const text = (key: string) => (typeof connection[key] === 'string' && connection[key] !== '' ? (connection[key] as string) : undefined);
  const accessKeyId = text('accessKeyId');
  const secretAccessKey = text('secretAccessKey');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined))
    throw new MetaformError(
      `service ${service.name}: an Athena connection with explicit keys needs both accessKeyId and secretAccessKey`,
      undefined,
      'set both (e.g. from ${AWS_ACCESS_KEY_ID} and ${AWS_SECRET_ACCESS_KEY}), or neither to use the AWS default credential chain',
    );
  const region = text('region') ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'];
  const result: AthenaConnection = { workgroup: text('workgroup') ?? 'primary' };
  const copy = { region, accessKeyId, secretAccessKey, sessionToken: text('sessionToken'), profile: text('profile'), endpoint: text('endpoint'), outputLocation: text('outputLocation'), database: text('database') };
  for (const [key, value] of Object.entries(copy)) if (value !== undefined) (result as unknown as Record<string, string>)[key] = value;
  if (typeof connection['maxAttempts'] === 'number') result.maxAttempts = connection['maxAttempts'];
  return result;
}

export function describeAthenaTarget(service: ServiceConfig): string {
  const connection = service.connection as Record<string, JsonValue>;
  const region = connection['region'] ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? '(no region)';
  const endpoint = typeof connection['endpoint'] === 'string' ? `, endpoint ${connection['endpoint']}` : '';
  return `region ${String(region)}, workgroup ${String(connection['workgroup'] ?? 'primary')}${endpoint}`;
}

/** Never let a key through into a message, a plan or the journal. */
function redact(text: string, connection: AthenaConnection): string {
  let safe = text;
  for (const secret of [connection.secretAccessKey, connection.sessionToken, connection.accessKeyId]) if (secret) safe = safe.replaceAll(secret, '***');
  return safe;
}

const codeOf = (error: unknown): string => String((error as { code?: unknown } | null)?.code ?? '');
const nameOf = (error: unknown): string => String((error as { name?: unknown } | null)?.name ?? '');

/** Throttling, a server fault, a query the service itself calls retryable, a dropped connection: worth running again (ALTER ... SET TBLPROPERTIES is idempotent). */
export function isTransientAthenaError(error: unknown): boolean {
  if (error instanceof QueryFailed) return error.retryable;
  return ['TooManyRequestsException', 'ThrottlingException', 'InternalServerException'].includes(nameOf(error)) || ['ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(codeOf(error));
}

/** Nothing answers at the endpoint: the other operations would end the same way. */
export function isUnreachableAthenaError(error: unknown): boolean {
  return ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(codeOf(error));
}

export const ATHENA_RETRY: RetryPolicy = { attempts: 3, backoffMs: 1000, isTransient: isTransientAthenaError, isUnreachable: isUnreachableAthenaError };

/** A query that ended FAILED or CANCELLED, with the service's reason. */
class QueryFailed extends Error {
  override name = 'QueryFailed';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** The error the SDK raises for a table that does not exist (GetTableMetadata): MetadataException, or not found in the message. */
function isMissingTable(error: unknown): boolean {
  return nameOf(error) === 'MetadataException' || nameOf(error) === 'EntityNotFoundException' || /not found|does not exist/i.test(errorMessage(error));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const DEFAULT_CONCURRENCY = 4;
/**
 * Up to this many touched tables, apply's staleness check reads each with GetTableMetadata (one
 * request each, whatever the size of its database); beyond it, listing their databases 50 tables a
 * page is likely cheaper.
 */
const TABLES_READ_ONE_BY_ONE = 200;
const DEFAULT_POLL_MS = 250;
const MAX_POLL_MS = 2000;

let driver: Promise<Sdk> | undefined;

function loadDriver(target: string): Promise<Sdk> {
  // The SDK warns on stderr, once per process, that releases after January 2027 need Node 22; metaform prints its own messages.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  driver ??= importDriver('@aws-sdk/client-athena', () => import('@aws-sdk/client-athena'));
  return driver.catch((error: unknown) => {
    driver = undefined;
    throw new MetaformError(`${target}: cannot load the @aws-sdk/client-athena client: ${errorMessage(error)}`, undefined, 'run npm install in the directory metaform runs from');
  });
}

/**
 * One AthenaClient for the service. Reads are ListDatabases and ListTableMetadata; writes are DDL
 * run with StartQueryExecution in the configured workgroup and output location, polled with
 * GetQueryExecution until it ends. The SDK is loaded only here.
 */
export class AthenaSession implements ConnectorSession {
  private constructor(
    private readonly service: ServiceConfig,
    private readonly connection: AthenaConnection,
    private readonly sdk: Sdk,
    private readonly client: AthenaClient,
  ) {}

  static async open(service: ServiceConfig): Promise<AthenaSession> {
    const connection = connectionOf(service);
    const target = `Athena service ${service.name} (${describeAthenaTarget(service)})`;
    if (connection.region === undefined)
      throw new MetaformError(`${target}: no region`, undefined, `set services.${service.name}.connection.region (or AWS_REGION)`);
    const sdk = await loadDriver(target);
    const config: AthenaClientConfig = {
      region: connection.region,
      maxAttempts: connection.maxAttempts ?? 3,
      // Given keys are used as they are: the default chain (and its instance-metadata lookup) is never consulted.
      ...(connection.accessKeyId && connection.secretAccessKey
        ? { credentials: { accessKeyId: connection.accessKeyId, secretAccessKey: connection.secretAccessKey, ...(connection.sessionToken ? { sessionToken: connection.sessionToken } : {}) } }
        : {}),
      ...(connection.profile ? { profile: connection.profile } : {}),
      ...(connection.endpoint ? { endpoint: connection.endpoint } : {}),
    };
    return new AthenaSession(service, connection, sdk, new sdk.AthenaClient(config));
  }

  /** What names the target in every message: region, workgroup and catalog, never a key. */
  private where(catalog: string): string {
    return `Athena service ${this.service.name} (region ${this.connection.region ?? ''}, workgroup ${this.connection.workgroup}, catalog ${catalog})`;
  }

  private fail(catalog: string, error: unknown): MetaformError {
    const name = nameOf(error);
    const prefix = name && name !== 'Error' && !errorMessage(error).includes(name) ? `${name}: ` : '';
    return new MetaformError(redact(`${this.where(catalog)}: ${prefix}${errorMessage(error)}`, this.connection), undefined, this.hint(error));
  }

  private hint(error: unknown): string | undefined {
    if (nameOf(error) === 'CredentialsProviderError') return `give services.${this.service.name}.connection accessKeyId and secretAccessKey, or configure the AWS default credential chain (AWS_PROFILE, environment variables, SSO, an instance role)`;
    if (/AccessDenied|not authorized/i.test(`${nameOf(error)} ${errorMessage(error)}`)) return 'the IAM policy of these credentials lacks an action: docs/athena.md lists the ones metaform needs';
    return undefined;
  }

  private api(): CatalogApi {
    const { sdk, client } = this;
    const workGroup = this.connection.workgroup;
    return {
      listDatabases: async (catalog, nextToken) => {
        const out = await client.send(new sdk.ListDatabasesCommand({ CatalogName: catalog, MaxResults: PAGE_SIZE, WorkGroup: workGroup, ...(nextToken ? { NextToken: nextToken } : {}) }));
        return { items: out.DatabaseList ?? [], ...(out.NextToken ? { nextToken: out.NextToken } : {}) };
      },
      listTableMetadata: async (catalog, database, nextToken) => {
        const out = await client.send(
          new sdk.ListTableMetadataCommand({ CatalogName: catalog, DatabaseName: database, MaxResults: PAGE_SIZE, WorkGroup: workGroup, ...(nextToken ? { NextToken: nextToken } : {}) }),
        );
        return { items: (out.TableMetadataList ?? []) as TableMetadata[], ...(out.NextToken ? { nextToken: out.NextToken } : {}) };
      },
      getTableMetadata: async (catalog, database, table) => {
        try {
          const out = await client.send(new sdk.GetTableMetadataCommand({ CatalogName: catalog, DatabaseName: database, TableName: table, WorkGroup: workGroup }));
          return out.TableMetadata as TableMetadata | undefined;
        } catch (error) {
          if (isMissingTable(error)) return undefined;
          throw error;
        }
      },
    };
  }

  private concurrency(): number {
    const configured = this.service.options['concurrency'];
    return typeof configured === 'number' && configured >= 1 ? configured : DEFAULT_CONCURRENCY;
  }

  async read(request: ReadRequest): Promise<CatalogSnapshot> {
    const snapshot: CatalogSnapshot = { service: this.service.name, databases: new Map(), server: {}, queries: 0 };
    for (const [index, catalog] of request.databases.entries()) {
      request.onProgress?.(index, request.databases.length, catalog);
      let read: CatalogRead;
      try {
        const tables = request.current?.length ? tablesOf(request.current, catalog) : undefined;
        read = tables && tables.length <= TABLES_READ_ONE_BY_ONE ? await readAthenaTables(this.api(), catalog, tables, this.concurrency()) : await readAthenaCatalog(this.api(), catalog, request.schemas?.get(catalog), this.concurrency());
      } catch (error) {
        throw this.fail(catalog, error);
      }
      snapshot.queries += read.requests;
      snapshot.databases.set(catalog, read.database);
    }
    request.onProgress?.(request.databases.length, request.databases.length, '');
    return snapshot;
  }

  /** Runs one DDL statement to its end: started, then polled until SUCCEEDED (or FAILED / CANCELLED, raised with the reason). */
  private async runStatement(catalog: string, sql: string): Promise<void> {
    const { sdk, client } = this;
    const started = await client.send(
      new sdk.StartQueryExecutionCommand({
        QueryString: sql,
        WorkGroup: this.connection.workgroup,
        QueryExecutionContext: { Catalog: catalog },
        ...(this.connection.outputLocation ? { ResultConfiguration: { OutputLocation: this.connection.outputLocation } } : {}),
      }),
    );
    const id = started.QueryExecutionId;
    if (!id) throw new Error('StartQueryExecution returned no QueryExecutionId');
    let delay = typeof this.service.options['pollIntervalMs'] === 'number' ? this.service.options['pollIntervalMs'] : DEFAULT_POLL_MS;
    for (;;) {
      await sleep(delay);
      delay = Math.min(delay * 2, MAX_POLL_MS);
      const out = await client.send(new sdk.GetQueryExecutionCommand({ QueryExecutionId: id }));
      const status: QueryExecutionStatus = out.QueryExecution?.Status ?? {};
      if (status.State === 'SUCCEEDED') return;
      if (status.State === 'FAILED' || status.State === 'CANCELLED')
        throw new QueryFailed(`query ${id} ${status.State}: ${status.StateChangeReason ?? status.AthenaError?.ErrorMessage ?? 'no reason given'}`, status.AthenaError?.Retryable === true);
    }
  }

  /** runStatement, with the SDK's exception name in the message the journal keeps (InvalidRequestException: line 1:5: ...). */
  private async runNamed(catalog: string, sql: string): Promise<void> {
    try {
      await this.runStatement(catalog, sql);
    } catch (error) {
      if (error instanceof Error && /Exception$/.test(error.name) && !error.message.startsWith(error.name)) error.message = `${error.name}: ${error.message}`;
      throw error;
    }
  }

  async execute(request: ExecuteRequest): Promise<OperationResult[]> {
    const safe = (result: OperationResult): OperationResult => (result.error === undefined ? result : { ...result, error: redact(result.error, this.connection) });
    const results = await runEachOperation(request.operations, (sql) => this.runNamed(request.database, sql), ATHENA_RETRY, {
      concurrency: this.concurrency(),
      target: this.where(request.database),
      onResult: (result) => request.onResult?.(safe(result)),
      ...(request.signal ? { signal: request.signal } : {}),
    });
    return results.map(safe);
  }

  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }
}

/** The distinct tables of `catalog` among the paths apply checks, or undefined when one is not a table (read the catalog then). */
function tablesOf(paths: readonly (readonly string[])[], catalog: string): [string, string][] | undefined {
  const seen = new Map<string, [string, string]>();
  for (const path of paths) {
    if (path[0] !== catalog) continue;
    if (path.length < 3) return undefined;
    const pair: [string, string] = [path[1] ?? '', path[2] ?? ''];
    seen.set(JSON.stringify(pair), pair);
  }
  return [...seen.values()];
}
