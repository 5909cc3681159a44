import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { CatalogSnapshot, OperationResult } from '../../core/model.js';
import { runEachOperation, type RetryPolicy } from '../shared/execute.js';
import type { ConnectorSession, ExecuteRequest, ReadRequest, ServiceConfig } from '../types.js';
import { readClickhouseCatalog } from './catalog.js';

/** Network failures and the server-side codes that mean "try again" (timeouts, replicas busy, Keeper). */
const TRANSIENT_CODES = new Set(['159', '209', '210', '242', '319', '425', '999']);
const TRANSIENT_MESSAGES = /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|socket hang up|Timeout error/i;

export const CLICKHOUSE_RETRY: RetryPolicy = {
  attempts: 3,
  backoffMs: 300,
  isTransient: (error) => {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    return (typeof code === 'string' && TRANSIENT_CODES.has(code)) || TRANSIENT_MESSAGES.test(String(message ?? ''));
  },
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
    });
    try {
      // ping() reports failures as a value; a query throws them with the server's words.
      await client.query({ query: 'SELECT 1', format: 'JSONCompactEachRow' }).then((result) => result.json());
    } catch (error) {
      await client.close();
      throw error;
    }
    return new ClickhouseSession(service, client);
  }

  private async rows(query: string): Promise<unknown[][]> {
    const result = await this.client.query({ query, format: 'JSONCompactEachRow' });
    return result.json<unknown[]>();
  }

  read(request: ReadRequest): Promise<CatalogSnapshot> {
    const [database = ''] = request.databases;
    return readClickhouseCatalog(this.service.name, (sql) => this.rows(sql), request.databases, request.schemas?.get(database));
  }

  execute(request: ExecuteRequest): Promise<OperationResult[]> {
    // No transactions for DDL in ClickHouse: each operation is its own ALTER, reported on its own.
    // A few at once: metadata ALTERs of different tables do not wait for each other, and each
    // request otherwise spends most of its time in round trips.
    return runEachOperation(
      request.operations,
      (query) => this.client.command({ query, clickhouse_settings: { wait_end_of_query: 1 } }),
      CLICKHOUSE_RETRY,
      request.onResult,
      CLICKHOUSE_CONCURRENCY,
    );
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
