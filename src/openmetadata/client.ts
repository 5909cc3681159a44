/**
 * The OpenMetadata REST client: bearer auth, the server version read once (it decides the owner
 * shape), cursor paging, retries of throttling and server errors with backoff, and errors that
 * name the server and the entity, never the token.
 */
import { MetaformError } from '../core/errors.js';
import { fqnSegment, type FqnQuoting } from './fqn.js';
import { retryAfterMs } from '../connectors/shared/execute.js';

export interface OpenMetadataConnection {
  url: string;
  token?: string;
}

export interface ClientOptions {
  /** Retries of 429, 5xx and unreachable-server errors (default 3). */
  retries?: number;
  /** First backoff delay; doubled on each retry (default 250 ms). */
  retryDelayMs?: number;
  /** Page size of list calls (at most 1,000). */
  pageSize?: number;
}

export interface ServerFacts {
  version: string;
  /** `owners: EntityReference[]` from 1.5.0; `owner: EntityReference` before. */
  multiOwner: boolean;
  /**
   * How the server quotes FQN parts: inner quotes doubled since PR #28697 (merged 2026-06-04;
   * taken as 1.13.0 and later, the first release after it: inferred, the release is unverified),
   * `\"` before.
   */
  fqnQuoting: FqnQuoting;
}

/**
 * The weak validator the server accepts in If-Match: `W/"` + Java's `Double.toString(version)` +
 * `"` (openmetadata-service util/EntityETag.java `generateWeakETag` @09c2001, which concatenates
 * the Double `version`; EntityETagTest pins `W/"1.0"` and `W/"10.0"`). JavaScript writes the
 * number 1 as `1`, Java as `1.0`; versions stay in Double.toString's plain-decimal range.
 */
export function weakETag(version: number): string {
  return `W/"${Number.isInteger(version) ? version.toFixed(1) : String(version)}"`;
}

export interface EntityReference {
  id: string;
  type: string;
  name?: string;
  fullyQualifiedName?: string;
  displayName?: string;
  /** An owner the entity takes from its container, not one set on it. */
  inherited?: boolean;
}

export interface TagLabel {
  tagFQN: string;
  source: string;
  labelType: string;
  state: string;
  [key: string]: unknown;
}

export interface CatalogColumn {
  name: string;
  fullyQualifiedName?: string;
  description?: string;
  tags?: TagLabel[];
  children?: CatalogColumn[];
}

export interface ChangeSummaryEntry {
  changeSource?: string;
  changedBy?: string;
  changedAt?: number;
}

export interface CatalogEntity {
  id: string;
  name: string;
  fullyQualifiedName: string;
  description?: string;
  version?: number;
  updatedAt?: number;
  updatedBy?: string;
  owners?: EntityReference[];
  owner?: EntityReference;
  tags?: TagLabel[];
  columns?: CatalogColumn[];
  changeDescription?: ChangeDescription;
  changeSummary?: Record<string, ChangeSummaryEntry>;
}

/** One RFC 6902 operation. */
export interface JsonPatchOperation {
  op: 'add' | 'replace' | 'remove' | 'test' | 'move' | 'copy';
  path: string;
  value?: unknown;
  from?: string;
}

export interface FieldChange {
  name: string;
  oldValue?: unknown;
  newValue?: unknown;
}

/** `type/entityHistory.json` changeDescription: what one version changed, and (newer) who changed each registered field. */
export interface ChangeDescription {
  fieldsAdded?: FieldChange[];
  fieldsUpdated?: FieldChange[];
  fieldsDeleted?: FieldChange[];
  previousVersion?: number;
  changeSummary?: Record<string, ChangeSummaryEntry>;
}

/** One entry of `GET /{collection}/{id}/versions`: the entity as it was at that version. */
export interface EntityVersion {
  version?: number;
  updatedAt?: number;
  updatedBy?: string;
  changeDescription?: ChangeDescription;
}

export interface CatalogUser {
  id: string;
  name: string;
  email?: string;
  isBot?: boolean;
}

export type EntityCollection = 'databases' | 'databaseSchemas' | 'tables';

interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** What the request is about, for error messages: `table svc.db.sales.orders`. */
  about: string;
  /** Statuses answered at once instead of retried (a failed JSON Patch `test` is a 500 on older servers). */
  noRetry?: readonly number[];
}

export interface Response<T> {
  status: number;
  body: T;
  etag: string | null;
}

/** An HTTP error answer: the status is kept so callers can tell 404 and 412 from the rest. */
export class OpenMetadataHttpError extends MetaformError {
  constructor(
    message: string,
    readonly status: number,
    hint?: string,
  ) {
    super(message, undefined, hint);
    this.name = 'OpenMetadataHttpError';
  }
}

const RETRIED = new Set([429, 500, 502, 503, 504]);

export class OpenMetadataClient {
  /** HTTP requests sent, retries included (the bench reports it). */
  requests = 0;
  private readonly base: string;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  readonly pageSize: number;
  server: ServerFacts = { version: 'unknown', multiOwner: true, fqnQuoting: 'doubled' };

  private constructor(
    private readonly connection: OpenMetadataConnection,
    options: ClientOptions,
  ) {
    let parsed: URL;
    try {
      parsed = new URL(connection.url);
    } catch {
      throw new MetaformError(`openmetadata.url "${connection.url}" is not a URL`, undefined, 'write it as https://host[:port], without /api/v1');
    }
    if (parsed.username || parsed.password) {
      parsed.username = '';
      parsed.password = '';
      throw new MetaformError(`openmetadata.url (${parsed.toString()}) carries credentials`, undefined, 'authenticate with openmetadata.token (a bot JWT or a personal access token) instead');
    }
    this.base = connection.url.replace(/\/+$/, '').replace(/\/api(\/v1)?$/, '');
    this.retries = options.retries ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 250;
    this.pageSize = Math.min(1000, options.pageSize ?? 1000);
  }

  /** Connects and reads the server version once. */
  static async connect(connection: OpenMetadataConnection, options: ClientOptions = {}): Promise<OpenMetadataClient> {
    const client = new OpenMetadataClient(connection, options);
    const { body } = await client.request<{ version?: string }>('GET', '/system/version', { about: 'server version' });
    const version = body.version ?? 'unknown';
    client.server = { version, multiOwner: atLeast(version, 1, 5), fqnQuoting: version === 'unknown' || atLeast(version, 1, 13) ? 'doubled' : 'backslash' };
    return client;
  }

  get url(): string {
    return this.base;
  }

  /** The owner field of this server: `owners` from 1.5, `owner` before. */
  get ownerField(): 'owners' | 'owner' {
    return this.server.multiOwner ? 'owners' : 'owner';
  }

  async request<T>(method: string, path: string, options: RequestOptions): Promise<Response<T>> {
    const url = new URL(`${this.base}/api/v1${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.connection.token) headers['authorization'] = `Bearer ${this.connection.token}`;
    if (options.body !== undefined) headers['content-type'] ??= method === 'PATCH' ? 'application/json-patch+json' : 'application/json';
    const where = `OpenMetadata at ${this.base}`;
    for (let attempt = 0; ; attempt++) {
      this.requests++;
      let response: globalThis.Response;
      try {
        response = await fetch(url, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
      } catch (error) {
        if (attempt < this.retries) {
          await sleep(this.retryDelayMs * 2 ** attempt);
          continue;
        }
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        throw new OpenMetadataHttpError(`cannot reach ${where} (${options.about}): ${cause?.code ?? cause?.message ?? (error as Error).message}`, 0, 'check openmetadata.url and that the server is up');
      }
      const text = await response.text();
      if (response.ok) return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T, etag: response.headers.get('etag') };
      if (RETRIED.has(response.status) && attempt < this.retries && !options.noRetry?.includes(response.status)) {
        const asked = retryAfterMs(response.headers.get('retry-after'));
        await sleep(asked !== undefined && asked > 0 ? Math.min(asked, 30_000) : this.retryDelayMs * 2 ** attempt);
        continue;
      }
      throw new OpenMetadataHttpError(`${where}: ${options.about}: HTTP ${response.status} ${serverMessage(text)}`, response.status, hintFor(response.status));
    }
  }

  /** Every item of a list endpoint, page by page (cursor `after`), each page handed to `onPage`. */
  async listAll<T>(path: string, query: Record<string, string | undefined>, about: string, onPage: (items: T[]) => void): Promise<void> {
    let after: string | undefined;
    do {
      const { body } = await this.request<{ data: T[]; paging?: { after?: string } }>('GET', path, { query: { ...query, limit: String(this.pageSize), after }, about });
      onPage(body.data);
      after = body.paging?.after;
    } while (after);
  }

  /** An entity by FQN, or undefined when the catalog has none. */
  async getByName(collection: EntityCollection, fqn: string, fields: string[], about: string): Promise<Response<CatalogEntity> | undefined> {
    try {
      return await this.request<CatalogEntity>('GET', `/${collection}/name/${fqnSegment(fqn)}`, { query: { fields: fields.join(','), include: 'non-deleted' }, about });
    } catch (error) {
      if (error instanceof OpenMetadataHttpError && error.status === 404) return undefined;
      throw error;
    }
  }

  /**
   * A patch holding a `test` is not retried on 500: before PR #28316 (2026-05-21) the server
   * mapped a failed `test` (jakarta.json.JsonException) to nothing, so it answered 500
   * (CatalogGenericExceptionMapper); the caller re-reads the entity instead.
   */
  async patch(collection: EntityCollection, id: string, operations: readonly JsonPatchOperation[], ifMatch: string | undefined, about: string): Promise<Response<CatalogEntity>> {
    const tested = operations.some((operation) => operation.op === 'test');
    return this.request<CatalogEntity>('PATCH', `/${collection}/${encodeURIComponent(id)}`, { body: operations, about, ...(ifMatch ? { headers: { 'if-match': ifMatch } } : {}), ...(tested ? { noRetry: [500] } : {}) });
  }

  /** The entity's version history, latest first (`GET /{collection}/{id}/versions`, type/entityHistory.json). */
  async versions(collection: EntityCollection, id: string, about: string): Promise<EntityVersion[]> {
    const { body } = await this.request<{ versions?: unknown[] }>('GET', `/${collection}/${encodeURIComponent(id)}/versions`, { about });
    return (body.versions ?? []).map((version) => (typeof version === 'string' ? (JSON.parse(version) as EntityVersion) : (version as EntityVersion)));
  }
}

function atLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split(/[.-]/).map((part) => Number.parseInt(part, 10) || 0);
  return a > major || (a === major && b >= minor);
}

function serverMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: string };
    return body.message ?? text.slice(0, 300);
  } catch {
    return text.slice(0, 300);
  }
}

function hintFor(status: number): string | undefined {
  if (status === 401) return 'the token was refused: set openmetadata.token to a bot JWT or a personal access token (${VAR} only)';
  if (status === 403) return "the token's user or bot lacks the permission for this call";
  if (status === 404) return 'check the service name in metaform.yaml (it is the OpenMetadata database service name) and the object name';
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
