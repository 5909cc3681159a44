import pg from 'pg';
import type { CatalogSnapshot, JsonValue, Operation, OperationResult } from '../../core/model.js';
import { MetaformError } from '../../core/errors.js';
import { errorMessage, withRetry, type RetryPolicy } from '../shared/execute.js';
import type { ConnectorSession, ExecuteRequest, ReadRequest, ServiceConfig } from '../types.js';
import type { DatabaseRead } from './catalog.js';

/** SQLSTATEs and socket errors worth another attempt: the same statement may well succeed. */
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '55P03', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006', '53300']);
const TRANSIENT_ERRNOS = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

export const PG_RETRY: RetryPolicy = {
  attempts: 3,
  backoffMs: 200,
  isTransient: (error) => {
    const code = (error as { code?: unknown } | null)?.code;
    return typeof code === 'string' && (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_ERRNOS.has(code));
  },
};

/** Statements sent in one round trip; a failed batch is replayed statement by statement. */
const BATCH_SIZE = 500;

export interface PgFamilyOptions {
  displayName: string;
  readDatabase(client: pg.Client, schemas: readonly string[] | undefined): Promise<DatabaseRead>;
  /** SAVEPOINT support: one transaction per database with a savepoint per batch. */
  savepoints: boolean;
  defaultPort: number;
}

/**
 * Host, port and user as pg will use them, never the password: pg lets `connectionString` override
 * the separate fields, so a message naming `host` while pg dialled the string's host would mislead.
 */
export function describePgTarget(service: ServiceConfig, defaultPort: number): string {
  const { host, port, user, connectionString } = service.connection as { host?: string; port?: number | string; user?: string; connectionString?: string };
  const fromString = typeof connectionString === 'string' ? connectionStringParts(connectionString) : {};
  if (fromString === undefined) return '(a connectionString that is not a URL)';
  const target = `${fromString.host ?? host ?? '127.0.0.1'}:${fromString.port ?? port ?? defaultPort}`;
  const who = fromString.user ?? user;
  return `${target}${who ? ` as ${who}` : ''}`;
}

/** The parts of a postgres:// URL that name the server; undefined when it is not a URL. */
function connectionStringParts(text: string): { host?: string; port?: string; user?: string } | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  // A socket folder is written percent-encoded as the host, or as ?host=/path.
  const host = decodeURIComponent(url.hostname) || url.searchParams.get('host') || undefined;
  return {
    ...(host ? { host } : {}),
    ...(url.port ? { port: url.port } : {}),
    ...(url.username ? { user: decodeURIComponent(url.username) } : {}),
  };
}

/** A session over the PostgreSQL wire protocol: one pg.Client per database, opened on demand. */
export class PgFamilySession implements ConnectorSession {
  private readonly clients = new Map<string, Promise<pg.Client>>();

  constructor(
    private readonly service: ServiceConfig,
    private readonly options: PgFamilyOptions,
  ) {}

  /** Connects to the configured database once, so bad credentials fail before any work. */
  async open(): Promise<void> {
    const database = this.service.connection['database'];
    await this.client(typeof database === 'string' ? database : undefined);
  }

  private client(database: string | undefined): Promise<pg.Client> {
    const key = database ?? '';
    let client = this.clients.get(key);
    if (!client) {
      client = this.connect(database);
      this.clients.set(key, client);
      client.catch(() => this.clients.delete(key));
    }
    return client;
  }

  private async connect(database: string | undefined): Promise<pg.Client> {
    const config = { ...(this.service.connection as pg.ClientConfig), ...(database ? { database } : {}) };
    const outcome = await withRetry(PG_RETRY, async () => {
      const client = new pg.Client(config);
      client.on('error', () => undefined); // a dropped idle connection must not crash the process
      try {
        await client.connect();
        return client;
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
    });
    if (outcome.value) return outcome.value;
    const target = `${describePgTarget(this.service, this.options.defaultPort)}${database ? `, database ${database}` : ''}`;
    throw new MetaformError(
      `service ${this.service.name}: cannot connect to ${this.options.displayName} at ${target}: ${errorMessage(outcome.error)}`,
      undefined,
      'check services.' + this.service.name + '.connection in metaform.yaml and the environment variables it reads',
    );
  }

  async read(request: ReadRequest): Promise<CatalogSnapshot> {
    const snapshot: CatalogSnapshot = { service: this.service.name, databases: new Map(), server: {}, queries: 0 };
    let done = 0;
    for (const database of request.databases) {
      request.onProgress?.(done, request.databases.length, database);
      const client = await this.client(database);
      const read = await this.options.readDatabase(client, request.schemas?.get(database));
      snapshot.databases.set(read.database.name, read.database);
      snapshot.queries += read.queries;
      snapshot.server = mergeServerFacts(snapshot.server, read.server);
      request.onProgress?.(++done, request.databases.length, database);
    }
    return snapshot;
  }

  async execute(request: ExecuteRequest): Promise<OperationResult[]> {
    const client = await this.client(request.database);
    const results: OperationResult[] = [];
    const report = (result: OperationResult) => {
      results.push(result);
      request.onResult?.(result);
    };
    const transactional = this.options.savepoints;
    if (transactional) await client.query('BEGIN');
    try {
      for (let start = 0; start < request.operations.length; start += BATCH_SIZE) {
        await this.runBatch(client, request.operations.slice(start, start + BATCH_SIZE), transactional, report);
      }
      if (transactional) await client.query('COMMIT');
    } catch (error) {
      if (transactional) await client.query('ROLLBACK').catch(() => undefined);
      // The transaction is gone: what was reported succeeded did not persist.
      const message = `transaction aborted: ${errorMessage(error)}`;
      const reported = new Set(results.map((result) => result.operationId));
      for (const result of results) if (result.outcome === 'succeeded') Object.assign(result, { outcome: 'failed', error: message });
      for (const operation of request.operations)
        if (!reported.has(operation.id)) report({ operationId: operation.id, outcome: 'failed', error: message, durationMs: 0, attempts: 0 });
    }
    return results;
  }

  /**
   * One round trip for the whole batch; if it fails, it is undone and each operation is run on
   * its own so that every failure is reported and every other operation still applies.
   */
  private async runBatch(
    client: pg.Client,
    batch: Operation[],
    transactional: boolean,
    report: (result: OperationResult) => void,
  ): Promise<void> {
    const started = performance.now();
    const script = batch.flatMap((operation) => operation.statements).join(';\n');
    const whole = await withRetry(PG_RETRY, () => this.guarded(client, script, transactional));
    if (whole.error === undefined) {
      const each = (performance.now() - started) / batch.length;
      for (const operation of batch)
        report({ operationId: operation.id, outcome: 'succeeded', durationMs: each, attempts: whole.attempts });
      return;
    }
    for (const operation of batch) {
      const opStarted = performance.now();
      const outcome = await withRetry(PG_RETRY, () => this.guarded(client, operation.statements.join(';\n'), transactional));
      report({
        operationId: operation.id,
        outcome: outcome.error === undefined ? 'succeeded' : 'failed',
        durationMs: performance.now() - opStarted,
        attempts: outcome.attempts,
        ...(outcome.error === undefined ? {} : { error: errorMessage(outcome.error) }),
      });
    }
  }

  /** Runs SQL so that a failure leaves no partial effect (savepoint, or the implicit transaction of a multi-statement query). */
  private async guarded(client: pg.Client, sql: string, transactional: boolean): Promise<void> {
    if (!transactional) {
      await client.query(sql);
      return;
    }
    await client.query('SAVEPOINT metaform_batch');
    try {
      await client.query(sql);
      await client.query('RELEASE SAVEPOINT metaform_batch');
    } catch (error) {
      await client.query('ROLLBACK TO SAVEPOINT metaform_batch');
      throw error;
    }
  }

  async close(): Promise<void> {
    const clients = await Promise.allSettled(this.clients.values());
    this.clients.clear();
    await Promise.all(clients.map((settled) => (settled.status === 'fulfilled' ? settled.value.end().catch(() => undefined) : undefined)));
  }
}

function mergeServerFacts(
  current: Record<string, JsonValue>,
  next: Record<string, JsonValue>,
): Record<string, JsonValue> {
  // Facts that describe the server (version, quoting mode) are the same for every database.
  const { currentDatabase: _ignored, ...shared } = next;
  return { ...current, ...shared };
}
