import { ClickHouseLogLevel, createClient, parseError, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import type { Readable } from 'node:stream';
import { findLive, type CatalogSnapshot, type Change, type OperationResult } from '../../core/model.js';
import { errorMessage, runEachOperation, withRetry, type RetryPolicy } from '../shared/execute.js';
import type { ConnectorSession, ExecuteRequest, ReadRequest, ServiceConfig } from '../types.js';
import { CLICKHOUSE_DATABASE, metadataSizeQueries, readClickhouseCatalog } from './catalog.js';
import { tablesNearQuerySizeLimit } from './dialect.js';

/** A failed HTTP exchange with the server or a gateway before it: the status is kept. */
export class ClickhouseHttpError extends Error {
  override name = 'ClickhouseHttpError';
  constructor(
    message: string,
    readonly status: number,
    /** ClickHouse's error code when the server answered, e.g. '60'. */
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** Server-side codes that mean "try again" (timeouts, replicas busy, Keeper). */
const TRANSIENT_CODES = new Set(['159', '209', '210', '242', '319', '425', '999']);
/** A gateway or load balancer in front of the server: busy, restarting or timed out. */
const TRANSIENT_STATUSES = new Set([502, 503, 504]);
const TRANSIENT_MESSAGES = /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|socket hang up|Timeout error/i;
/** Nothing answers at the address: the server is down or gone, not busy. */
const UNREACHABLE = /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH/;

const fieldOf = (error: unknown, field: 'code' | 'message'): string => {
  const value = typeof error === 'object' && error !== null ? (error as Record<string, unknown>)[field] : undefined;
  return typeof value === 'string' ? value : '';
};

export const CLICKHOUSE_RETRY: RetryPolicy = {
  attempts: 3,
  backoffMs: 300,
  isTransient: (error) =>
    (error instanceof ClickhouseHttpError && TRANSIENT_STATUSES.has(error.status)) ||
    TRANSIENT_CODES.has(fieldOf(error, 'code')) ||
    TRANSIENT_MESSAGES.test(`${fieldOf(error, 'code')} ${fieldOf(error, 'message')}`),
  isUnreachable: (error) => !(error instanceof ClickhouseHttpError) && UNREACHABLE.test(`${fieldOf(error, 'code')} ${fieldOf(error, 'message')}`),
};

/** ALTERs in flight at once during apply (the client keeps up to 10 sockets open). */
const CLICKHOUSE_CONCURRENCY = 4;

/**
 * The URL without credentials, for messages, as the client resolves it: the deprecated `host`
 * wins over `url`, and a user in the URL over `username` (ours maps `user` to `username`).
 */
export function describeClickhouseTarget(service: ServiceConfig): string {
  const { url, host, username, user } = service.connection as Record<string, string | undefined>;
  try {
    const parsed = new URL(host ?? url ?? 'http://localhost:8123');
    const who = (parsed.username ? decodeURIComponent(parsed.username) : undefined) ?? username ?? user;
    return `${parsed.protocol}//${parsed.host}${who ? ` as ${who}` : ''}`;
  } catch {
    return '(invalid url)';
  }
}

async function textOf(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** ClickHouse's own error text, or the gist of a gateway's page (its title), never a whole HTML page. */
function httpError(status: number, body: string, exceptionCode: string | undefined): ClickhouseHttpError {
  const text = body.trim();
  const parsed = parseError(text);
  const code = exceptionCode ?? fieldOf(parsed, 'code');
  if (code) return new ClickhouseHttpError(`${text.split('\n')[0] ?? ''} (HTTP ${status})`, status, code);
  const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
  const gist = title ?? text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
  return new ClickhouseHttpError(`HTTP ${status}${gist ? `: ${gist}` : ''}`, status, undefined);
}

export class ClickhouseSession implements ConnectorSession {
  constructor(
    private readonly service: ServiceConfig,
    private readonly client: ClickHouseClient,
  ) {}

  static async open(service: ServiceConfig): Promise<ClickhouseSession> {
    const { user, ...connection } = service.connection as Record<string, unknown>;
    const client = createClient({
      ...(user !== undefined ? { username: String(user) } : {}),
      ...(connection as Parameters<typeof createClient>[0]),
      // Failures reach the user as metaform's messages, once; the client would print its own
      // [ERROR] lines with stack traces, even for a request that a retry then carries through.
      log: { level: ClickHouseLogLevel.OFF },
    });
    const session = new ClickhouseSession(service, client);
    try {
      await session.request('SELECT 1');
    } catch (error) {
      await client.close();
      throw new Error(errorMessage(error), { cause: error });
    }
    return session;
  }

  /** One statement; the response's text, or an error that keeps the HTTP status. */
  private async request(query: string, settings: ClickHouseSettings = {}): Promise<string> {
    const result = await this.client.exec({ query, clickhouse_settings: settings, ignore_error_response: true });
    const text = await textOf(result.stream);
    const status = result.http_status_code ?? 200;
    const exceptionCode = result.response_headers['x-clickhouse-exception-code'];
    if (status >= 200 && status < 300 && exceptionCode === undefined) return text;
    throw httpError(status, text, typeof exceptionCode === 'string' ? exceptionCode : undefined);
  }

  private async rows(query: string): Promise<unknown[][]> {
    const text = await this.request(`${query} FORMAT JSONCompactEachRow`);
    const rows: unknown[][] = [];
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      const line = text.slice(start, end);
      start = end + 1;
      if (!line) continue;
      try {
        rows.push(JSON.parse(line) as unknown[]);
      } catch {
        // An error met after the first rows is appended to the stream as text.
        throw new Error(`ClickHouse stopped in the middle of the answer: ${line.slice(0, 500)}`);
      }
    }
    return rows;
  }

  /** Each catalog query is retried like an ALTER; failing that, the error names the service and host. */
  async read(request: ReadRequest): Promise<CatalogSnapshot> {
    const [database = ''] = request.databases;
    return readClickhouseCatalog(this.service.name, (sql) => this.catalogRows(sql), request.databases, request.schemas?.get(database));
  }

  /** The exact metadata size of the tables whose column comments may bring it near max_query_size. */
  async prepare(changes: readonly Change[], snapshot: CatalogSnapshot): Promise<void> {
    for (const sql of metadataSizeQueries(tablesNearQuerySizeLimit(changes, snapshot))) {
      for (const [database, name, size] of await this.catalogRows(sql)) {
        const table = findLive(snapshot, [CLICKHOUSE_DATABASE, String(database), String(name)]);
        if (table) table.facts = { ...table.facts, metadataBytes: Number(size) };
      }
      snapshot.queries++;
    }
  }

  private async catalogRows(sql: string): Promise<unknown[][]> {
    const outcome = await withRetry(CLICKHOUSE_RETRY, () => this.rows(sql));
    if (outcome.error !== undefined)
      throw new Error(
        `service ${this.service.name}: cannot read the catalog of ClickHouse at ${describeClickhouseTarget(this.service)} ` +
          `(${outcome.attempts} attempt${outcome.attempts > 1 ? 's' : ''}): ${errorMessage(outcome.error)}`,
        { cause: outcome.error },
      );
    return outcome.value ?? [];
  }


  execute(request: ExecuteRequest): Promise<OperationResult[]> {
    // No transactions for DDL in ClickHouse: each operation is its own ALTER, reported on its own.
    // A few at once: metadata ALTERs of different tables do not wait for each other, and each
    // request otherwise spends most of its time in round trips.
    return runEachOperation(request.operations, (query) => this.request(query, { wait_end_of_query: 1 }), CLICKHOUSE_RETRY, {
      ...(request.onResult ? { onResult: request.onResult } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
      concurrency: CLICKHOUSE_CONCURRENCY,
      target: `ClickHouse at ${describeClickhouseTarget(this.service)}`,
    });
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
