import type { BigQuery, BigQueryOptions } from '@google-cloud/bigquery';
import { MetaformError } from '../../core/errors.js';
import type { CatalogSnapshot, JsonValue, LiveObject, OperationResult } from '../../core/model.js';
import { liveChild, newLiveObject } from '../../core/model.js';
import { runPool } from '../../core/pool.js';
import { importDriver } from '../shared/driver.js';
import { errorMessage, runEachOperation, type RetryPolicy } from '../shared/execute.js';
import type { ConnectorSession, ExecuteRequest, ReadRequest, ServiceConfig } from '../types.js';
import { readBigQueryProject } from './catalog.js';
import { parseFieldPatch, type FieldPatch } from './dialect.js';

type Sdk = typeof import('@google-cloud/bigquery');
type Auth = typeof import('google-auth-library');

/** The settings metaform reads from `connection:` (anything else is refused by name). */
export interface BigQueryConnection {
  /** The project the jobs run in (and the one `import` reads when `databases` is not set). */
  projectId: string;
  /** Where the datasets are: US, EU, us-central1... (the INFORMATION_SCHEMA region). */
  location: string;
  /** A service account key file; or its content inline; or a bearer token; none: application default credentials. */
  keyFilename?: string;
  credentials?: Record<string, JsonValue>;
  accessToken?: string;
  /** Another endpoint than bigquery.googleapis.com (a proxy, the tests' emulator). */
  apiEndpoint?: string;
}

const KNOWN = ['projectId', 'project', 'location', 'keyFilename', 'credentials', 'accessToken', 'apiEndpoint'];

export function connectionOf(service: ServiceConfig): BigQueryConnection {
  const connection = service.connection as Record<string, JsonValue>;
  for (const key of Object.keys(connection))
    if (!KNOWN.includes(key)) throw new MetaformError(`service ${service.name}: unknown BigQuery connection setting "${key}"`, undefined, `known settings: ${KNOWN.join(', ')}`);
  const text = (key: string) => (typeof connection[key] === 'string' && connection[key] !== '' ? (connection[key] as string) : undefined);
  const projectId = text('projectId') ?? text('project');
  if (!projectId)
    throw new MetaformError(`service ${service.name}: a BigQuery connection needs projectId`, undefined, `set services.${service.name}.connection.projectId (and location) in metaform.yaml`);
  const given = ['keyFilename', 'credentials', 'accessToken'].filter((key) => connection[key] !== undefined && connection[key] !== '');
  if (given.length > 1)
    throw new MetaformError(`service ${service.name}: give one of ${given.join(', ')}, not several`, undefined, 'keep the one the service account should use');
  const credentials = connection['credentials'];
  if (credentials !== undefined && (typeof credentials !== 'object' || credentials === null || Array.isArray(credentials)))
    throw new MetaformError(`service ${service.name}: connection.credentials must be the service account key (a JSON object)`, undefined, 'paste the key file content, or use keyFilename');
  const keyFilename = text('keyFilename');
  const accessToken = text('accessToken');
  const apiEndpoint = text('apiEndpoint');
  return {
    projectId,
    location: text('location') ?? 'US',
    ...(keyFilename ? { keyFilename } : {}),
    ...(credentials ? { credentials: credentials as Record<string, JsonValue> } : {}),
    ...(accessToken ? { accessToken } : {}),
    ...(apiEndpoint ? { apiEndpoint } : {}),
  };
}

/** For error messages: the project and the location, never a key. */
export function describeBigQueryTarget(service: ServiceConfig): string {
  const connection = service.connection as Record<string, JsonValue>;
  const project = connection['projectId'] ?? connection['project'];
  const location = connection['location'];
  return `BigQuery project ${typeof project === 'string' ? project : '(no projectId)'}, location ${typeof location === 'string' ? location : 'US'}`;
}

interface ApiError {
  code?: unknown;
  errors?: { reason?: string }[];
}

const statusOf = (error: unknown): number | undefined => {
  const code = (error as ApiError | null)?.code;
  return typeof code === 'number' ? code : undefined;
};

/** The server cannot be reached at all: the other operations would end the same way. */
export function isUnreachableBigQueryError(error: unknown): boolean {
  return /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|EAI_AGAIN/.test(`${String((error as { code?: unknown } | null)?.code)} ${errorMessage(error)}`);
}

/**
 * The client already retries 408, 429, 5xx and rate-limit reasons with backoff (its
 * shouldRetryRequest), jobs.query with the same requestId; one more layer would only multiply
 * the waits. A 412 is a changed object, never worth repeating.
 */
const BIGQUERY_RETRY: RetryPolicy = { attempts: 1, backoffMs: 0, isTransient: () => false, isUnreachable: isUnreachableBigQueryError };

const DEFAULT_CONCURRENCY = 4;

/** Never let a secret through into an error message, a plan or the journal. */
function redact(text: string, connection: BigQueryConnection): string {
  let safe = text;
  const key = connection.credentials?.['private_key'];
  for (const secret of [connection.accessToken, typeof key === 'string' ? key : undefined]) if (secret) safe = safe.replaceAll(secret, '***');
  return safe;
}

/** One client for the service; the jobs run in the configured project and location. */
export class BigQuerySession implements ConnectorSession {
  private constructor(
    private readonly service: ServiceConfig,
    private readonly connection: BigQueryConnection,
    private readonly client: BigQuery,
  ) {}

  static async open(service: ServiceConfig): Promise<BigQuerySession> {
    const connection = connectionOf(service);
    const target = describeBigQueryTarget(service);
    const sdk = await loadDriver(target);
    const options: BigQueryOptions = { projectId: connection.projectId, location: connection.location };
    if (connection.apiEndpoint) options.apiEndpoint = connection.apiEndpoint;
    if (connection.keyFilename) options.keyFilename = connection.keyFilename;
    if (connection.credentials) options.credentials = connection.credentials as BigQueryOptions['credentials'];
    if (connection.accessToken) {
      // A bearer token the caller obtained (gcloud auth print-access-token, workload identity
      // federation): no key, no token exchange, no metadata server.
      const auth = await importDriver<Auth>('google-auth-library', () => import('google-auth-library'));
      const client = new auth.OAuth2Client();
      client.setCredentials({ access_token: connection.accessToken, expiry_date: Date.now() + 3600_000 });
      options.authClient = client as unknown as BigQueryOptions['authClient'];
    }
    // With credentials given and the project named, the client has no reason to ask the GCE
    // metadata server (the tests point GCE_METADATA_HOST at a counter to hold it to that).
    return new BigQuerySession(service, connection, new sdk.BigQuery(options));
  }

  private fail(error: unknown, doing: string): MetaformError {
    const status = statusOf(error);
    const auth = this.connection.accessToken ? 'the access token' : this.connection.keyFilename || this.connection.credentials ? 'the service account key' : 'the application default credentials';
    const why =
      status === 401
        ? `${auth} was refused (HTTP 401)`
        : status === 403
          ? `the caller may not ${doing} (HTTP 403): ${errorMessage(error)}`
          : errorMessage(error);
    return new MetaformError(
      `service ${this.service.name} (${describeBigQueryTarget(this.service)}): ${redact(why, this.connection)}`,
      undefined,
      status === 403 ? 'grant the roles docs/bigquery.md lists' : undefined,
    );
  }

  /** Every row of a query, all result pages read (the client follows pageToken). */
  private async query(sql: string): Promise<Record<string, unknown>[]> {
    const [rows] = await this.client.query({ query: sql, location: this.connection.location, useLegacySql: false });
    return rows as Record<string, unknown>[];
  }

  async read(request: ReadRequest): Promise<CatalogSnapshot> {
    const snapshot: CatalogSnapshot = { service: this.service.name, databases: new Map(), server: {}, databaseFacts: new Map(), queries: 0 };
    let done = 0;
    for (const project of request.databases) {
      request.onProgress?.(done++, request.databases.length, project);
      let read;
      try {
        read = await readBigQueryProject((sql) => this.query(sql), project, this.connection.location, request.schemas?.get(project));
      } catch (error) {
        throw this.fail(error, `read INFORMATION_SCHEMA of project ${project}`);
      }
      snapshot.queries += read.queries;
      snapshot.databases.set(project, read.database);
      snapshot.databaseFacts?.set(project, { project, location: this.connection.location });
    }
    if (request.current && request.current.length > 0) {
      try {
        snapshot.queries += await this.readCurrent(snapshot, request.current);
      } catch (error) {
        throw this.fail(error, 'read the datasets and tables the plan changes');
      }
    }
    request.onProgress?.(request.databases.length, request.databases.length, '');
    return snapshot;
  }

  /**
   * The objects a saved plan changes, read again through datasets.get and tables.get: these
   * answer in real time, while INFORMATION_SCHEMA "might not" reflect a change at once
   * (https://cloud.google.com/bigquery/docs/managing-table-schemas). What apply checks for
   * staleness, and renders its statements from, is then the objects as they are. One request per
   * dataset and table the plan touches.
   */
  private async readCurrent(snapshot: CatalogSnapshot, paths: readonly (readonly string[])[]): Promise<number> {
    const objects = new Map<string, string[]>();
    for (const path of paths) if (path.length >= 2) objects.set(JSON.stringify(path.slice(0, Math.min(path.length, 3))), path.slice(0, Math.min(path.length, 3)));
    await runPool([...objects.values()], this.concurrency(), async ([project = '', datasetId = '', tableId]) => {
      const database = snapshot.databases.get(project);
      if (!database) return;
      const dataset = this.client.dataset(datasetId, { projectId: project });
      const metadata = await getOrGone(tableId === undefined ? dataset : dataset.table(tableId));
      const parent = tableId === undefined ? database : database.children.get(datasetId);
      const name = tableId ?? datasetId;
      if (metadata === undefined) {
        parent?.children.delete(name);
        return;
      }
      if (!parent) return;
      const object = liveChild(parent, tableId === undefined ? 'schema' : 'table', name);
      object.description = metadata.description === undefined || metadata.description === '' ? null : metadata.description;
      object.tags = { ...metadata.labels };
      if (tableId === undefined) return;
      object.facts = { tableType: TABLE_TYPES[metadata.type ?? ''] ?? metadata.type ?? 'BASE TABLE' };
      const columns = new Map<string, LiveObject>();
      walkFields(metadata.schema?.fields ?? [], '', (path, field) => {
        const column = newLiveObject('column', path);
        column.description = field.description === undefined || field.description === '' ? null : field.description;
        columns.set(path, column);
      });
      object.children = columns;
    });
    return objects.size;
  }

  private concurrency(): number {
    const configured = this.service.options['concurrency'];
    return typeof configured === 'number' && configured >= 1 ? configured : DEFAULT_CONCURRENCY;
  }

  /**
   * A tables.patch of field descriptions: the schema as tables.get returns it, every field
   * attribute (mode, type, policy tags, default value, collation, max length...) sent back as
   * read, only the named descriptions changed; If-Match carries the etag read, so a table changed
   * in between answers 412 and keeps its metadata.
   */
  private async patchFields(patch: FieldPatch): Promise<void> {
    const table = this.client.dataset(patch.datasetId, { projectId: patch.projectId }).table(patch.tableId);
    const [metadata] = (await table.getMetadata()) as unknown as [{ etag?: string; schema?: { fields?: SchemaField[] } }];
    const fields = metadata.schema?.fields ?? [];
    for (const [path, description] of Object.entries(patch.fields)) {
      const field = findField(fields, path.split('.'));
      if (!field) throw new Error(`table ${patch.projectId}.${patch.datasetId}.${patch.tableId} has no field ${path}`);
      if (description === null) delete field.description;
      else field.description = description;
    }
    await new Promise<void>((resolve, reject) => {
      const headers: Record<string, string> = metadata.etag ? { 'If-Match': metadata.etag } : {};
      table.request({ method: 'PATCH', uri: '', json: { schema: { fields } }, headers }, (error: Error | null) => (error ? reject(error) : resolve()));
    });
  }

  async execute(request: ExecuteRequest): Promise<OperationResult[]> {
    const results: OperationResult[] = new Array<OperationResult>(request.operations.length);
    const indexOf = new Map(request.operations.map((operation, index) => [operation.id, index]));
    // One object's operations (a table's options, then its columns) run one after the other:
    // side by side, the patch of its columns would meet the etag its options just changed (412).
    const objectOf = new Map<string, string>();
    for (const operation of request.operations) for (const sql of operation.statements) objectOf.set(sql, operation.id.split('#')[0] ?? operation.id);
    const queues = new Map<string, Promise<void>>();
    // An aborted signal starts no further operation (runEachOperation reports them not-run).
    const runStatement = async (sql: string) => {
      const object = objectOf.get(sql) ?? sql;
      const previous = queues.get(object) ?? Promise.resolve();
      let release = () => undefined as void;
      const mine = new Promise<void>((resolve) => (release = resolve));
      queues.set(object, previous.then(() => mine));
      await previous;
      try {
        const patch = parseFieldPatch(sql);
        if (patch) await this.patchFields(patch);
        else await this.query(sql);
      } finally {
        release();
      }
    };
    await runEachOperation(request.operations, runStatement, BIGQUERY_RETRY, {
      concurrency: this.concurrency(),
      target: describeBigQueryTarget(this.service),
      ...(request.signal ? { signal: request.signal } : {}),
      onResult: (result: OperationResult) => {
        const safe: OperationResult = result.error === undefined || result.outcome === 'not-run' ? result : { ...result, error: redact(staleness(result.error), this.connection) };
        results[indexOf.get(result.operationId) ?? 0] = safe;
        request.onResult?.(safe);
      },
    });
    return results;
  }

  async close(): Promise<void> {
    // The client holds no connection of its own (each request is an HTTPS call).
  }
}

/** A 412 says the object changed since metaform read it: the plan is stale for that object. */
function staleness(message: string): string {
  return /Precondition|412|conditionNotMet/i.test(message) ? `the object changed since it was read (HTTP 412), nothing was written: run metaform plan again (${message})` : message;
}

/** REST Table.type -> INFORMATION_SCHEMA.TABLES.table_type, as the bulk read records it. */
const TABLE_TYPES: Record<string, string> = { TABLE: 'BASE TABLE', VIEW: 'VIEW', MATERIALIZED_VIEW: 'MATERIALIZED VIEW', EXTERNAL: 'EXTERNAL', SNAPSHOT: 'SNAPSHOT' };

interface ResourceMetadata {
  description?: string;
  labels?: Record<string, string>;
  type?: string;
  schema?: { fields?: SchemaField[] };
}

/** A dataset's or table's metadata; undefined when it is gone (404). */
async function getOrGone(resource: { getMetadata(): Promise<unknown> }): Promise<ResourceMetadata | undefined> {
  try {
    const [metadata] = (await resource.getMetadata()) as [ResourceMetadata];
    return metadata;
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

/** Every field with its path (`a`, `a.b`), parents first, as COLUMN_FIELD_PATHS lists them. */
function walkFields(fields: readonly SchemaField[], prefix: string, visit: (path: string, field: SchemaField) => void): void {
  for (const field of fields) {
    const path = prefix === '' ? field.name : `${prefix}.${field.name}`;
    visit(path, field);
    walkFields(field.fields ?? [], path, visit);
  }
}

export interface SchemaField {
  name: string;
  description?: string;
  fields?: SchemaField[];
  [attribute: string]: unknown;
}

/** A field by its path; BigQuery field names are case-insensitive. */
function findField(fields: SchemaField[], path: readonly string[]): SchemaField | undefined {
  const [head, ...rest] = path;
  const field = fields.find((candidate) => candidate.name.toLowerCase() === (head ?? '').toLowerCase());
  if (!field || rest.length === 0) return field;
  return findField(field.fields ?? [], rest);
}

let driver: Promise<Sdk> | undefined;

async function loadDriver(target: string): Promise<Sdk> {
  driver ??= importDriver<Sdk>('@google-cloud/bigquery', () => import('@google-cloud/bigquery'));
  return driver.catch((error: unknown) => {
    driver = undefined;
    throw new MetaformError(`${target}: cannot load the @google-cloud/bigquery client: ${errorMessage(error)}`, undefined, 'run npm install in the directory metaform runs from');
  });
}
