import pg from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import type { CatalogSnapshot, Operation, OperationResult } from '../../core/model.js';
import { MetaformError } from '../../core/errors.js';
import { errorMessage, withRetry, type RetryPolicy } from '../shared/execute.js';
import { pollApplyLock } from '../shared/lock.js';
import type { ConnectorSession, ExecuteRequest, ReadRequest, ServiceConfig } from '../types.js';
import type { DatabaseRead } from './catalog.js';

/** SQLSTATEs of a statement that may well succeed when sent again on the same connection. */
const RETRY_SQLSTATES = new Set(['40001', '40P01', '55P03', '53300']);
/** SQLSTATEs and socket errors after which the connection is gone: reconnect, then send again. */
const LOST_SQLSTATES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);
const LOST_ERRNOS = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);
/** pg reports a socket closed under it with these messages and no code. */
const LOST_MESSAGES = /Connection terminated|connection error|Client was closed|not queryable/i;

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

export function isConnectionLost(error: unknown): boolean {
  const code = codeOf(error);
  return LOST_SQLSTATES.has(code) || LOST_ERRNOS.has(code) || (!code && LOST_MESSAGES.test(errorMessage(error)));
}

/** The connection was lost and could not be opened again: not worth another attempt. */
class ServerGone extends Error {
  constructor(readonly reason: unknown) {
    super(errorMessage(reason));
  }
}

export const PG_RETRY: RetryPolicy = {
  attempts: 3,
  backoffMs: 200,
  isTransient: (error) => !(error instanceof ServerGone) && (RETRY_SQLSTATES.has(codeOf(error)) || isConnectionLost(error)),
};

/** Connecting again after the connection was lost: a restart takes a few seconds. */
const RECONNECT: RetryPolicy = { attempts: 6, backoffMs: 250, isTransient: (error) => isConnectionLost(error) || RETRY_SQLSTATES.has(codeOf(error)) };

/** Statements sent in one round trip, committed together; a failed batch is replayed operation by operation. */
const BATCH_SIZE = 500;

/** The advisory lock key apply holds per database: 'meta', 'form' as two int4. */
const APPLY_LOCK = [0x6d657461, 0x666f726d] as const;

export interface PgFamilyOptions {
  displayName: string;
  readDatabase(client: pg.Client, schemas: readonly string[] | undefined): Promise<DatabaseRead>;
  /** pg_try_advisory_lock exists (PostgreSQL; not Redshift). */
  advisoryLocks: boolean;
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

/**
 * The client settings with `connectionString` read into fields as pg itself reads it (its values
 * win over the separate fields). pg would also let the string's database win over the one asked
 * for, so every database the YAML names would be the string's: here the database is set last.
 */
function clientSettings(connection: ServiceConfig['connection']): pg.ClientConfig {
  const { connectionString, ...fields } = connection as pg.ClientConfig & Record<string, unknown>;
  if (typeof connectionString !== 'string') return connection as pg.ClientConfig;
  const parsed = Object.entries(parseConnectionString(connectionString)).filter(([, value]) => value !== null && value !== undefined);
  return { ...fields, ...Object.fromEntries(parsed) } as pg.ClientConfig;
}

/** The database a connectionString names (pg reads it so), if any. */
export function connectionStringDatabase(connection: ServiceConfig['connection']): string | undefined {
  const { connectionString } = connection as { connectionString?: unknown };
  return typeof connectionString === 'string' ? (parseConnectionString(connectionString).database ?? undefined) : undefined;
}

/**
 * A session over the PostgreSQL wire protocol: one pg.Client per database, opened on demand, and
 * opened again when the connection is lost mid-apply (with the apply lock taken again).
 */
export class PgFamilySession implements ConnectorSession {
  private readonly clients = new Map<string, Promise<pg.Client>>();
  /** Databases whose apply lock this session holds (taken again after a reconnect). */
  private readonly locked = new Set<string>();

  constructor(
    private readonly service: ServiceConfig,
    private readonly options: PgFamilyOptions,
  ) {}

  /** Connects to the configured database once, so bad credentials fail before any work. */
  async open(): Promise<void> {
    const database = this.service.connection['database'] ?? connectionStringDatabase(this.service.connection);
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

  private async connect(database: string | undefined, policy: RetryPolicy = PG_RETRY): Promise<pg.Client> {
    const config = { ...clientSettings(this.service.connection), ...(database ? { database } : {}) };
    const outcome = await withRetry(policy, async () => {
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

  /** Drops a lost connection and opens a new one, taking the apply lock again if it was held. */
  private async reconnect(database: string, lost: pg.Client): Promise<pg.Client> {
    if ((await this.clients.get(database)?.catch(() => undefined)) === lost) this.clients.delete(database);
    await lost.end().catch(() => undefined);
    let client = this.clients.get(database);
    if (!client) {
      client = this.connect(database, RECONNECT);
      this.clients.set(database, client);
      client.catch(() => this.clients.delete(database));
    }
    const fresh = await client;
    if (this.locked.has(database) && !(await this.tryLock(fresh)))
      throw new MetaformError(`reconnected to database ${database}, but another metaform apply took its lock meanwhile; the rest was not run`);
    return fresh;
  }

  async read(request: ReadRequest): Promise<CatalogSnapshot> {
    const snapshot: CatalogSnapshot = { service: this.service.name, databases: new Map(), server: {}, databaseFacts: new Map(), queries: 0 };
    let done = 0;
    for (const database of request.databases) {
      request.onProgress?.(done, request.databases.length, database);
      const read = await this.withConnection(database, (client) => this.options.readDatabase(client, request.schemas?.get(database)));
      snapshot.databases.set(read.database.name, read.database);
      snapshot.queries += read.queries;
      // Quoting settings are per database (ALTER DATABASE ... SET): each database keeps its own.
      snapshot.databaseFacts?.set(read.database.name, read.server);
      request.onProgress?.(++done, request.databases.length, database);
    }
    return snapshot;
  }

  /** Runs `work` on the database's connection; a lost connection is opened again and `work` retried. */
  private async withConnection<T>(database: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
    let client = await this.client(database);
    for (let attempt = 1; ; attempt++) {
      try {
        return await work(client);
      } catch (error) {
        if (attempt >= PG_RETRY.attempts || !isConnectionLost(error)) throw error;
        client = await this.reconnect(database, client);
      }
    }
  }

  private async tryLock(client: pg.Client): Promise<boolean> {
    const result = await client.query({ text: 'SELECT pg_try_advisory_lock($1, $2)', values: [...APPLY_LOCK], rowMode: 'array' });
    return result.rows[0]?.[0] === true;
  }

  async lock(database: string, timeoutMs: number): Promise<void> {
    if (!this.options.advisoryLocks) return;
    const client = await this.client(database);
    await pollApplyLock(() => this.tryLock(client), { service: this.service.name, database, timeoutMs });
    this.locked.add(database);
  }

  async execute(request: ExecuteRequest): Promise<OperationResult[]> {
    const results: OperationResult[] = [];
    const report = (result: OperationResult) => {
      results.push(result);
      request.onResult?.(result);
    };
    // Operations are reported in order, so what is left starts at results.length.
    const notRun = (error: string) => {
      for (let i = results.length; i < request.operations.length; i++) {
        const operation = request.operations[i] as Operation;
        report({ operationId: operation.id, outcome: 'not-run', error, durationMs: 0, attempts: 0 });
      }
    };
    let client = await this.client(request.database);
    for (let start = 0; start < request.operations.length; start += BATCH_SIZE) {
      if (request.signal?.aborted) {
        notRun('interrupted');
        break;
      }
      try {
        client = await this.runBatch(request.database, client, request.operations.slice(start, start + BATCH_SIZE), report);
      } catch (error) {
        // The server is gone and could not be reached again: one reason for all that is left.
        notRun(`not run: ${this.options.displayName} database ${request.database} is unreachable (${errorMessage(error)})`);
        break;
      }
    }
    return results;
  }

  /**
   * One round trip for the whole batch, as one implicit transaction: results are reported only
   * once it committed, so nothing printed or journaled is ever taken back. If it fails, it was
   * rolled back whole, and each operation is sent on its own (its own transaction) so that every
   * failure is reported and every other operation still applies. Returns the connection to go on
   * with (a new one after a reconnect); throws when the server cannot be reached again.
   */
  private async runBatch(database: string, client: pg.Client, batch: Operation[], report: (result: OperationResult) => void): Promise<pg.Client> {
    const started = performance.now();
    const script = batch.map((operation) => operation.statements.join(';\n')).join(';\n');
    let whole: { error?: unknown; attempts: number };
    ({ client, outcome: whole } = await this.send(database, client, script));
    if (whole.error === undefined) {
      const each = (performance.now() - started) / batch.length;
      for (const operation of batch) report({ operationId: operation.id, outcome: 'succeeded', durationMs: each, attempts: whole.attempts });
      return client;
    }
    for (const operation of batch) {
      const opStarted = performance.now();
      let outcome: { error?: unknown; attempts: number };
      ({ client, outcome } = await this.send(database, client, operation.statements.join(';\n')));
      report({
        operationId: operation.id,
        outcome: outcome.error === undefined ? 'succeeded' : 'failed',
        durationMs: performance.now() - opStarted,
        attempts: outcome.attempts,
        ...(outcome.error === undefined ? {} : { error: errorMessage(outcome.error) }),
      });
    }
    return client;
  }

  /**
   * Sends SQL with retries of transient errors; a lost connection is opened again first (the
   * implicit transaction died with it, so sending it again is safe). A reconnect that fails throws.
   */
  private async send(database: string, client: pg.Client, sql: string): Promise<{ client: pg.Client; outcome: { error?: unknown; attempts: number } }> {
    let current = client;
    let gone: unknown;
    const outcome = await withRetry(PG_RETRY, async () => {
      try {
        await current.query(sql);
      } catch (error) {
        if (isConnectionLost(error))
          current = await this.reconnect(database, current).catch((reconnectError: unknown) => {
            gone = reconnectError;
            return current;
          });
        if (gone !== undefined) throw new ServerGone(gone);
        throw error;
      }
    });
    if (gone !== undefined) throw gone;
    return { client: current, outcome };
  }

  async close(): Promise<void> {
    const clients = await Promise.allSettled(this.clients.values());
    this.clients.clear();
    this.locked.clear();
    // Ending the connection releases its advisory lock.
    await Promise.all(clients.map((settled) => (settled.status === 'fulfilled' ? settled.value.end().catch(() => undefined) : undefined)));
  }
}
