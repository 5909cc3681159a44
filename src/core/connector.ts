/**
 * The contract between the core and a connector. A connector is one folder holding
 * - its dialect: quoting and SQL rendering, pure and unit-tested;
 * - its catalog reader: a fixed number of bulk queries per database;
 * - its client wiring: the official driver, connections, transactions, retries.
 * The core defines this port; connectors implement it. The core imports only this file and the
 * registry; it never imports a driver.
 */
import type {
  CatalogSnapshot,
  Change,
  JsonValue,
  Level,
  Operation,
  OperationResult,
  RenderResult,
} from './model.js';

/** Which levels support which property. Declared once per connector; validation reads it. */
export interface Capabilities {
  description: readonly Level[];
  owner: readonly Level[];
  tags: readonly Level[];
  /** Most owners one object may have (1 on every engine with an OWNER column). */
  maxOwners: number;
  /** Whether an object may be left with no owner. */
  ownerRemovable: boolean;
  /** Why the system lacks a property at the levels it does not list (validation says it). */
  unsupported?: { description?: string; owner?: string; tags?: string };
  /**
   * Capabilities that depend on the server (e.g. MariaDB schema comments, ClickHouse database
   * comments on 25.4+). Validation accepts them; rendering reports them skipped with a reason
   * when the server turns out not to have them.
   */
  /**
   * Tag limits of the system, checked at validation, before anything connects
   * (src/core/tag-limits.ts): most tags on one object, longest value in characters.
   */
  tagLimits?: { perObject?: number; valueLength?: number };
  /** Longest description in bytes of the encoding the engine stores it in, checked at validation. */
  descriptionBytes?: { limit: number; encoding: 'utf8' | 'utf16le' };
  serverDependent?: {
    description?: readonly Level[];
    owner?: readonly Level[];
    tags?: readonly Level[];
  };
}

export interface Dialect {
  /** An identifier, quoted so the engine reads it back exactly. */
  quoteIdentifier(name: string): string;
  /** A string literal (or NULL for null), escaped for this engine's lexer. */
  quoteLiteral(value: string | null): string;
  /** The qualified name of an object from its path below the database (schema, table, column). */
  qualifiedName(path: readonly string[]): string;
  /** Where a tag key names an object (Snowflake tag objects): the key as SQL names that object. */
  quoteTagKey?(key: string): string;
}

/** A service as configured in metaform.yaml, after ${VAR} interpolation. */
export interface ServiceConfig {
  name: string;
  type: string;
  /** Passed to the client; never printed or journaled. */
  connection: Record<string, JsonValue>;
  /** Databases to read; default: the ones the YAML names. */
  databases?: string[];
  tags: { prune: boolean };
  owners: { map: Record<string, string> };
  templates: Record<string, string>;
  /** Connector-specific settings (e.g. ClickHouse `cluster`). */
  options: Record<string, JsonValue>;
}

export interface ReadRequest {
  /** Databases to read. */
  databases: string[];
  /** Restrict to these schemas per database (undefined = every schema). */
  schemas?: Map<string, string[]>;
  onProgress?: (done: number, total: number, label: string) => void;
  /**
   * Objects (paths as in changes) whose values must be current, such as those a saved plan
   * changes when apply checks it for staleness: a connector whose bulk read lags (Snowflake's
   * ACCOUNT_USAGE tags) reads these again in real time.
   */
  current?: readonly (readonly string[])[];
}

export interface ExecuteRequest {
  database: string;
  operations: Operation[];
  /**
   * Called once per operation as soon as its outcome is final (on a transactional engine, after
   * the commit that made it durable): what is printed and journaled never has to be taken back.
   */
  onResult?: (result: OperationResult) => void;
  /**
   * When aborted, no new operation starts; operations in flight finish (or roll back); the rest
   * are reported `not-run` with error 'interrupted'.
   */
  signal?: AbortSignal;
}

/** A live connection to one service (possibly several databases behind it). */
export interface ConnectorSession {
  read(request: ReadRequest): Promise<CatalogSnapshot>;
  /**
   * Optional: after the diff, before rendering, fetch what rendering needs about the objects
   * that change and is too costly to read for the whole catalog (MySQL: SHOW CREATE TABLE of the
   * tables whose column comments change), recording it in the snapshot's facts. It may also
   * correct the changes in place, as the source answers in real time: fix a `before` read from a
   * lagging view, drop a change the object already satisfies, add a change the others need
   * (Snowflake: creating a missing tag object, with options.createTags).
   */
  prepare?(changes: Change[], snapshot: CatalogSnapshot): Promise<void>;
  /**
   * Runs the operations of one database: batched and in one transaction where the engine
   * allows, each operation's outcome reported separately (a failure never hides the others).
   */
  execute(request: ExecuteRequest): Promise<OperationResult[]>;
  /**
   * The engine's per-database apply lock, on the connection execute() will use, held until
   * close(); rejects when another apply holds it after timeoutMs. Engines without one omit it.
   */
  lock?(database: string, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface Connector {
  /** The `type` of a service in metaform.yaml. */
  type: string;
  displayName: string;
  capabilities: Capabilities;
  /** JSON Schema of `services.<name>.options` (validated before anything connects). */
  optionsSchema?: object;
  /** JSON Schema of the `connection` settings the connector knows (port, host, booleans): checked before connecting. */
  connectionSchema?: object;
  /** The database the connection settings name where `connection.database` is not the only way (a URL's path). */
  connectionDatabase?(service: ServiceConfig): string | undefined;
  /**
   * The databases `import` reads when neither the command nor `databases` names any (BigQuery:
   * the connection's project).
   */
  defaultDatabases?(service: ServiceConfig): string[];
  /** The dialect to quote with; server facts come from the snapshot (sql_mode, version...). */
  dialect(server: Record<string, JsonValue>): Dialect;
  /**
   * The name of the object a YAML name designates (engines that fold unquoted names override);
   * two YAML names with the same canonical name are a conflict.
   */
  canonicalName?(name: string, level: Level): string;
  /**
   * How a YAML tag key must be written (engines whose tag keys are identifiers): the key as
   * metaform reads it back, or why the key names no tag. Validation asks for that spelling.
   */
  canonicalTagKey?(key: string, service: ServiceConfig): string | { error: string; hint?: string; canonical?: string };
  /** A tag value the system would store differently (BigQuery label values), or undefined when it stores it as written. */
  checkTagValue?(key: string, value: string): { error: string; hint?: string } | undefined;
  /**
   * Pure: render statements for the changes of one database, given the live snapshot and the
   * server facts of that database (see serverFactsOf).
   */
  render(changes: Change[], snapshot: CatalogSnapshot, service: ServiceConfig, server: Record<string, JsonValue>): RenderResult;
  /**
   * Two-level engines (MySQL, ClickHouse) have no database level: metaform files the engine's
   * databases as the schemas of this one database (`default`). Absent on three-level engines.
   */
  singleDatabase?: string;
  /** A host description for error messages, never containing a password. */
  describeTarget(service: ServiceConfig): string;
  connect(service: ServiceConfig): Promise<ConnectorSession>;
}
