import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection, ConnectionOptions } from 'snowflake-sdk';
import { ErrorList, MetaformError } from '../../core/errors.js';
import { findLive, formatAddress, type CatalogSnapshot, type Change, type LiveObject, type OperationResult } from '../../core/model.js';
import { runEachOperation, type RetryPolicy } from '../shared/execute.js';
import type { ConnectorSession, ExecuteRequest, ReadRequest, ServiceConfig } from '../types.js';
import { assignTag, isMissingObject, readSnowflakeDatabase, realtimeTagsSql, type RealtimeTarget, type TagReading } from './catalog.js';
import { quoteSnowflakeLiteral, quoteStoredIdentifier, TAG_OBJECT_CHANGE, tagObjectSql } from './dialect.js';
import { resolveTagKey, spellName, storedName, tagSchemaOf } from './names.js';

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

/** Real-time tag reads per query (each object is one or two table functions in a UNION ALL). */
const REALTIME_BATCH = 50;

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
    process.env['SF_OCSP_RESPONSE_CACHE_DIR'] ??= mkdtempSync(join(tmpdir(), 'metaform-snowflake-'));
    const module = (await import('snowflake-sdk')) as SnowflakeSdk & { default?: SnowflakeSdk };
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
    return new SnowflakeSession(service, connection);
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
    for (const [index, database] of request.databases.entries()) {
      request.onProgress?.(index, request.databases.length, database);
      const read = await readSnowflakeDatabase((sql) => this.query(sql), database, request.schemas?.get(database), this.tagReading);
      queries += read.queries;
      if (read.database) databases.push(read.database);
    }
    return { service: this.service.name, databases: new Map(databases.map((database) => [database.name, database])), server: { tagRead: 'ACCOUNT_USAGE' }, queries };
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
    await this.checkTagObjects(changes, snapshot);
    await this.confirmTagsInRealTime(changes, snapshot);
  }

  private async checkTagObjects(changes: Change[], snapshot: CatalogSnapshot): Promise<void> {
    const errors = new ErrorList();
    const tagSchema = this.tagReading.tagSchema;
    const bySchema = new Map<string, { schema: [string, string]; tags: Map<string, Change[]> }>();
    for (const change of changes) {
      if (change.property !== 'tag' || change.after === null) continue;
      const tag = resolveTagKey(change.key ?? '', tagSchema);
      if ('error' in tag) {
        errors.add(`${change.address}: ${tag.error}`, change.source, 'set options.tagSchema on the service, or write the key as DATABASE.SCHEMA.TAG');
        continue;
      }
      const schemaKey = JSON.stringify([tag[0], tag[1]]);
      let entry = bySchema.get(schemaKey);
      if (!entry) bySchema.set(schemaKey, (entry = { schema: [tag[0], tag[1]], tags: new Map() }));
      const list = entry.tags.get(tag[2]) ?? [];
      list.push(change);
      entry.tags.set(tag[2], list);
    }
    const createTags = this.service.options['createTags'] === true;
    const created: string[] = [];
    for (const { schema, tags } of bySchema.values()) {
      const existing = new Map<string, string[] | null>();
      try {
        for (const row of await this.query(`SHOW TAGS IN SCHEMA ${quoteStoredIdentifier(schema[0])}.${quoteStoredIdentifier(schema[1])}`)) {
          const allowed = row[6];
          existing.set(String(row[1]), allowed === null || allowed === undefined || allowed === '' ? null : (JSON.parse(String(allowed)) as string[]));
        }
      } catch (error) {
        if (!isMissingObject(error)) throw error;
      }
      snapshot.queries++;
      for (const [name, users] of tags) {
        const full = tagObjectSql([schema[0], schema[1], name]);
        const first = users[0] as Change;
        if (!existing.has(name)) {
          if (createTags) {
            created.push(full);
            const path = [spellName(schema[0]), spellName(schema[1])];
            const address = formatAddress(this.service.name, path);
            changes.push({
              id: `${address}${TAG_OBJECT_CHANGE}${name}`,
              service: this.service.name,
              address,
              path,
              level: 'schema',
              property: 'tag',
              key: name,
              action: 'add',
              before: null,
              after: `tag object ${full}`,
              ...(first.source ? { source: first.source } : {}),
            });
          } else
            errors.add(
              `tag object ${full} does not exist (tag ${first.key} on ${first.address}${users.length > 1 ? ` and ${users.length - 1} more` : ''})`,
              first.source,
              `create it: CREATE TAG IF NOT EXISTS ${full}; or let metaform create it with options.createTags: true`,
            );
          continue;
        }
        const allowed = existing.get(name);
        if (!allowed) continue;
        for (const change of users)
          if (!allowed.includes(change.after as string))
            errors.add(
              `tag ${change.key} = ${quoteSnowflakeLiteral(change.after)} on ${change.address} is not among the allowed values of ${full}: ${allowed.map((value) => quoteSnowflakeLiteral(value)).join(', ')}`,
              change.source,
              `use one of them, or add it: ALTER TAG ${full} ADD ALLOWED_VALUES ${quoteSnowflakeLiteral(change.after)}`,
            );
      }
    }
    errors.throwIfAny();
    if (created.length > 0) snapshot.server['createdTags'] = created;
  }

  private async confirmTagsInRealTime(changes: Change[], snapshot: CatalogSnapshot): Promise<void> {
    const targets = new Map<string, RealtimeTarget>();
    for (const change of changes) {
      if (change.property !== 'tag' || change.id.includes(TAG_OBJECT_CHANGE)) continue;
      const path = change.path.slice(0, Math.min(change.path.length, 3)).map(storedName);
      const domain = (['DATABASE', 'SCHEMA', 'TABLE'] as const)[path.length - 1] ?? 'TABLE';
      targets.set(JSON.stringify(path), { domain, path });
    }
    if (targets.size === 0) return;
    const list = [...targets.values()];
    // Real-time tags, by object path (spelled as in the snapshot).
    const realtime = new Map<string, LiveObject>();
    for (const target of list) {
      const live = findLive(snapshot, target.path.map(spellName));
      if (!live) continue;
      live.tags = {};
      if (live.facts?.['tagObjects']) live.facts = { ...live.facts, tagObjects: {} };
      realtime.set(JSON.stringify(target.path), live);
      if (target.domain === 'TABLE')
        for (const column of live.children.values()) {
          column.tags = {};
          if (column.facts?.['tagObjects']) column.facts = { ...column.facts, tagObjects: {} };
        }
    }
    for (let start = 0; start < list.length; start += REALTIME_BATCH) {
      const batch = list.slice(start, start + REALTIME_BATCH);
      const rows = await this.query(realtimeTagsSql(batch));
      snapshot.queries++;
      for (const [index, tagDatabase, tagSchema, tagName, value, columnName] of rows) {
        const target = batch[Number(index)];
        if (!target) continue;
        let object = realtime.get(JSON.stringify(target.path));
        if (object && columnName !== null && columnName !== undefined) object = object.children.get(spellName(String(columnName)));
        if (!object) continue;
        const path = [...target.path, ...(columnName ? [String(columnName)] : [])].map(spellName);
        assignTag(object, [String(tagDatabase), String(tagSchema), String(tagName)], String(value), this.tagReading, () => formatAddress(this.service.name, path));
      }
    }
    snapshot.server['tagRead'] = 'ACCOUNT_USAGE, confirmed in real time for the objects whose tags change';
    keepOnly(changes, (change) => {
      if (change.property !== 'tag' || change.id.includes(TAG_OBJECT_CHANGE)) return true;
      const live = findLive(snapshot, change.path);
      const now = live?.tags?.[change.key ?? ''] ?? null;
      if (now === change.after) return false;
      change.before = now;
      change.action = now === null ? 'add' : change.after === null ? 'remove' : 'update';
      return true;
    });
  }

  execute(request: ExecuteRequest): Promise<OperationResult[]> {
    // Snowflake commits each DDL statement on its own: operations run side by side, each reported.
    const concurrency = typeof this.service.options['concurrency'] === 'number' ? this.service.options['concurrency'] : 8;
    const creates = request.operations.filter((operation) => operation.id.includes(TAG_OBJECT_CHANGE));
    const rest = request.operations.filter((operation) => !operation.id.includes(TAG_OBJECT_CHANGE));
    const run = (sql: string) => this.query(sql);
    // Tag objects first, so that the SET TAGs of the same database find them.
    return runEachOperation(creates, run, SNOWFLAKE_RETRY, request.onResult, concurrency).then(async (first) =>
      first.concat(await runEachOperation(rest, run, SNOWFLAKE_RETRY, request.onResult, concurrency)),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.connection.destroy(() => resolve()));
  }
}

/** Keeps the changes `keep` accepts, in order, in the same array. */
function keepOnly(changes: Change[], keep: (change: Change) => boolean): void {
  let kept = 0;
  for (const change of changes) if (keep(change)) changes[kept++] = change;
  changes.length = kept;
}

