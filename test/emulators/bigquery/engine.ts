/**
 * BigQuery's metadata as the REST API and GoogleSQL see it: projects > datasets (location,
 * description, labels, etag) > tables (type, description, labels, schema fields, etag), the
 * callers' IAM roles, the DDL that sets options and the INFORMATION_SCHEMA views that read them.
 * Resources are kept in their REST shape (camelCase, as tables.get returns them), so get and
 * patch hand back exactly what was stored.
 */
import { randomBytes } from 'node:crypto';
import { evaluateQuery, parseQuery, type Expr, type Query, type Relation, type Source, type Value } from '../kit/select.js';
import { EngineError, TokenStream, type Token } from '../kit/tokens.js';
import { lexGoogleSql, syntaxError } from './lexer.js';

export interface SchemaField {
  name: string;
  type: string;
  mode?: string;
  description?: string;
  fields?: SchemaField[];
  [attribute: string]: unknown;
}

export interface TableResource {
  kind: 'bigquery#table';
  id: string;
  tableReference: { projectId: string; datasetId: string; tableId: string };
  /** TABLE, VIEW, MATERIALIZED_VIEW, EXTERNAL, SNAPSHOT (REST Table.type). */
  type: string;
  description?: string;
  labels?: Record<string, string>;
  schema: { fields: SchemaField[] };
  etag: string;
  location: string;
  lastModifiedTime: string;
  [attribute: string]: unknown;
}

export interface DatasetResource {
  kind: 'bigquery#dataset';
  id: string;
  datasetReference: { projectId: string; datasetId: string };
  location: string;
  description?: string;
  labels?: Record<string, string>;
  etag: string;
  lastModifiedTime: string;
  [attribute: string]: unknown;
}

export interface EmulatedDataset {
  resource: DatasetResource;
  tables: Map<string, TableResource>;
}

/**
 * The permissions of the predefined roles this emulator knows
 * (https://cloud.google.com/bigquery/docs/access-control#bigquery-roles). Granted on the project.
 */
export const ROLE_PERMISSIONS: Record<string, readonly string[]> = {
  'roles/bigquery.admin': ['bigquery.jobs.create', 'bigquery.datasets.get', 'bigquery.datasets.update', 'bigquery.tables.get', 'bigquery.tables.list', 'bigquery.tables.update'],
  'roles/bigquery.dataOwner': ['bigquery.datasets.get', 'bigquery.datasets.update', 'bigquery.tables.get', 'bigquery.tables.list', 'bigquery.tables.update'],
  'roles/bigquery.dataEditor': ['bigquery.datasets.get', 'bigquery.tables.get', 'bigquery.tables.list', 'bigquery.tables.update'],
  'roles/bigquery.dataViewer': ['bigquery.datasets.get', 'bigquery.tables.get', 'bigquery.tables.list'],
  'roles/bigquery.metadataViewer': ['bigquery.datasets.get', 'bigquery.tables.get', 'bigquery.tables.list'],
  'roles/bigquery.jobUser': ['bigquery.jobs.create'],
  'roles/bigquery.user': ['bigquery.jobs.create', 'bigquery.datasets.get', 'bigquery.tables.list'],
};

export interface Principal {
  email: string;
  roles: readonly string[];
}

/** The administrator fixtures and checks run as. */
export const ADMIN: Principal = { email: 'admin@emulator', roles: ['roles/bigquery.admin'] };

/** A REST error: HTTP status, BigQuery's reason, gRPC-style status. */
export class ApiError extends EngineError {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly grpcStatus: string,
    message: string,
  ) {
    super(reason, String(status), message);
  }
}

export const notFound = (message: string) => new ApiError(404, 'notFound', 'NOT_FOUND', `Not found: ${message}`);
export const invalid = (message: string) => new ApiError(400, 'invalid', 'INVALID_ARGUMENT', message);
const invalidQuery = (error: EngineError) => new ApiError(400, 'invalidQuery', 'INVALID_ARGUMENT', error.message);

/**
 * Label rules (https://cloud.google.com/bigquery/docs/labels-intro#requirements): keys 1-63,
 * values 0-63 characters of lowercase letters, digits, `_`, `-` (international characters
 * allowed); keys start with a lowercase letter or international character; 64 per resource.
 */
const LABEL_TEXT = /^[\p{Ll}\p{Lo}\p{Lm}\p{Nd}_-]{0,63}$/u;
const LABEL_KEY_START = /^[\p{Ll}\p{Lo}\p{Lm}]/u;

export function checkLabels(labels: Record<string, string | null>): void {
  const keys = Object.keys(labels);
  if (keys.filter((key) => labels[key] !== null).length > 64) throw invalid('Too many labels: at most 64 labels are allowed per resource');
  for (const key of keys) {
    if (!LABEL_TEXT.test(key) || !LABEL_KEY_START.test(key) || key.length === 0) throw invalid(`Invalid label key: ${key}. Label keys must start with a lowercase letter and contain only lowercase letters, numeric characters, underscores and dashes.`);
    const value = labels[key];
    if (value !== null && value !== undefined && !LABEL_TEXT.test(value)) throw invalid(`Invalid label value: ${value}. Label values may contain only lowercase letters, numeric characters, underscores and dashes, at most 63.`);
  }
}

/** REST TableFieldSchema.description: "The maximum length is 1,024 characters." */
const FIELD_DESCRIPTION_LENGTH = 1024;

const newEtag = () => randomBytes(12).toString('base64');

/** The option_value rendering of a string (a GoogleSQL literal in double quotes). */
function literal(value: string): string {
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += char;
  }
  return `${out}"`;
}

const TABLE_TYPE: Record<string, string> = { TABLE: 'BASE TABLE', VIEW: 'VIEW', MATERIALIZED_VIEW: 'MATERIALIZED VIEW', EXTERNAL: 'EXTERNAL', SNAPSHOT: 'SNAPSHOT' };

/** An ALTER's option value: NULL, a string (adjacent literals concatenate), or an array of pairs. */
type OptionValue = string | null | [string, string][];

export interface StatementResult {
  relation?: Relation;
  /** DDL: which operation ran (jobs.query ddlOperationPerformed). */
  ddl?: string;
}

export class BigQueryEngine {
  readonly projects = new Map<string, Map<string, EmulatedDataset>>();
  /** Every statement run through jobs (what reached the engine). */
  readonly statements: string[] = [];
  /**
   * What INFORMATION_SCHEMA shows while it lags behind (see lagInformationSchema): "changes might
   * not be immediately reflected in INFORMATION_SCHEMA ... call tables.get" (managing-table-schemas).
   */
  private lagged: Map<string, Map<string, EmulatedDataset>> | undefined;

  /** From now on INFORMATION_SCHEMA shows the state as it is now, until catchUp(). */
  lagInformationSchema(): void {
    this.lagged = structuredClone(this.projects);
  }

  catchUp(): void {
    this.lagged = undefined;
  }

  addDataset(project: string, datasetId: string, options: { location?: string; description?: string; labels?: Record<string, string> } = {}): EmulatedDataset {
    let datasets = this.projects.get(project);
    if (!datasets) this.projects.set(project, (datasets = new Map()));
    const resource: DatasetResource = {
      kind: 'bigquery#dataset',
      id: `${project}:${datasetId}`,
      datasetReference: { projectId: project, datasetId },
      location: options.location ?? 'US',
      ...(options.description === undefined ? {} : { description: options.description }),
      ...(options.labels === undefined ? {} : { labels: { ...options.labels } }),
      etag: newEtag(),
      lastModifiedTime: String(Date.now()),
    };
    const dataset: EmulatedDataset = { resource, tables: new Map() };
    datasets.set(datasetId, dataset);
    return dataset;
  }

  addTable(dataset: EmulatedDataset, tableId: string, fields: SchemaField[], options: { type?: string; description?: string; labels?: Record<string, string> } = {}): TableResource {
    const { projectId, datasetId } = dataset.resource.datasetReference;
    const table: TableResource = {
      kind: 'bigquery#table',
      id: `${projectId}:${datasetId}.${tableId}`,
      tableReference: { projectId, datasetId, tableId },
      type: options.type ?? 'TABLE',
      ...(options.description === undefined ? {} : { description: options.description }),
      ...(options.labels === undefined ? {} : { labels: { ...options.labels } }),
      schema: { fields },
      etag: newEtag(),
      location: dataset.resource.location,
      lastModifiedTime: String(Date.now()),
    };
    dataset.tables.set(tableId, table);
    return table;
  }

  dataset(project: string, datasetId: string): EmulatedDataset {
    const dataset = this.projects.get(project)?.get(datasetId);
    if (!dataset) throw notFound(`Dataset ${project}:${datasetId}`);
    return dataset;
  }

  table(project: string, datasetId: string, tableId: string): TableResource {
    const table = this.dataset(project, datasetId).tables.get(tableId);
    if (!table) throw notFound(`Table ${project}:${datasetId}.${tableId}`);
    return table;
  }

  /** Table metadata updates by table id, their times (the rate limit below; tests read it). */
  readonly tableUpdates = new Map<string, number[]>();

  /**
   * "Maximum rate of table metadata update operations per table: 5 operations every 10 seconds"
   * (https://cloud.google.com/bigquery/quotas#standard_tables), DDL and tables.patch alike; over
   * it, 403 rateLimitExceeded (the troubleshooting page's "Exceeded rate limits: too many table
   * update operations for this table"). Checked before an update is made, after its other checks.
   */
  checkTableRate(table: TableResource, now = Date.now()): void {
    const recent = (this.tableUpdates.get(table.id) ?? []).filter((at) => at > now - 10_000);
    if (recent.length >= 5)
      throw new ApiError(403, 'rateLimitExceeded', 'PERMISSION_DENIED', `Exceeded rate limits: too many table update operations for this table (${table.id}). For more information, see https://cloud.google.com/bigquery/docs/troubleshoot-quotas`);
  }

  /** A table updated: its etag changes and the update counts against the rate limit. */
  touchTable(table: TableResource): void {
    const now = Date.now();
    const times = this.tableUpdates.get(table.id) ?? [];
    times.push(now);
    this.tableUpdates.set(table.id, times);
    this.touch(table);
  }

  /** A resource changed: a new etag, as every metadata update gives. */
  touch(resource: { etag: string; lastModifiedTime: string }): void {
    resource.etag = newEtag();
    resource.lastModifiedTime = String(Date.now());
  }

  require(principal: Principal, permission: string, resource: string): void {
    if (principal.roles.some((role) => ROLE_PERMISSIONS[role]?.includes(permission))) return;
    throw new ApiError(403, 'accessDenied', 'PERMISSION_DENIED', `Access Denied: ${resource}: Permission ${permission} denied on ${resource} (or it may not exist).`);
  }

  /** One statement of a query job in `project`, located in `location`, run as `principal`. */
  run(sql: string, context: { project: string; location: string; principal: Principal }): StatementResult {
    this.statements.push(sql);
    let tokens: Token[];
    try {
      tokens = lexGoogleSql(sql);
    } catch (error) {
      throw error instanceof ApiError ? error : error instanceof EngineError ? invalidQuery(error) : error;
    }
    const stream = new TokenStream(tokens, (token, expected) =>
      syntaxError(sql, token.pos, `Expected ${expected ?? 'end of input'} but got ${token.kind === 'end' ? 'end of input' : `"${token.value}"`}`),
    );
    try {
      if (stream.isKeyword('SELECT')) return { relation: this.select(stream, context) };
      if (stream.acceptKeyword('ALTER')) return { ddl: this.alter(stream, context) };
      throw stream.fail('SELECT or ALTER');
    } catch (error) {
      if (error instanceof ApiError) throw error;
      if (error instanceof EngineError) throw invalidQuery(error);
      throw error;
    }
  }

  private select(stream: TokenStream, context: { project: string; location: string; principal: Principal }): Relation {
    const query = parseQuery(stream);
    stream.expectEnd();
    lowerColumnNames(query);
    return evaluateQuery(query, {
      resolve: (source) => this.view(source, context),
      unknownColumn: (name) => new EngineError('invalidQuery', '400', `Unrecognized name: ${name}`),
    });
  }

  /**
   * An INFORMATION_SCHEMA view: `[project.]region-xx.INFORMATION_SCHEMA.VIEW` (every dataset of
   * the project in that region) or `[project.]dataset.INFORMATION_SCHEMA.VIEW`
   * (https://cloud.google.com/bigquery/docs/information-schema-intro). A region qualifier must
   * be the job's location: the job runs there.
   */
  private view(source: Source, context: { project: string; location: string; principal: Principal }): Relation {
    if (source.kind !== 'table') throw new EngineError('invalidQuery', '400', 'table-valued functions are not emulated');
    const parts = [...source.name];
    const at = parts.findIndex((part) => part.toUpperCase() === 'INFORMATION_SCHEMA');
    if (at < 1 || at !== parts.length - 2 || at > 2) throw notFound(`Table ${parts.join('.')} (only INFORMATION_SCHEMA views are emulated)`);
    const project = at === 2 ? (parts[0] as string) : context.project;
    const qualifier = parts[at - 1] as string;
    const name = (parts[at + 1] as string).toUpperCase();
    const region = /^region-(.+)$/i.exec(qualifier)?.[1];
    const datasets = (this.lagged ?? this.projects).get(project) ?? new Map<string, EmulatedDataset>();
    let scope: EmulatedDataset[];
    if (region !== undefined) {
      if (region.toLowerCase() !== context.location.toLowerCase())
        throw notFound(`Dataset ${project}:${qualifier} was not found in location ${context.location}`);
      scope = [...datasets.values()].filter((dataset) => dataset.resource.location.toLowerCase() === region.toLowerCase());
    } else {
      const dataset = datasets.get(qualifier);
      if (!dataset) throw notFound(`Dataset ${project}:${qualifier}`);
      if (dataset.resource.location.toLowerCase() !== context.location.toLowerCase())
        throw notFound(`Dataset ${project}:${qualifier} was not found in location ${context.location}`);
      scope = [dataset];
    }
    const resource = `Table ${project}:${qualifier}.INFORMATION_SCHEMA.${name}`;
    // Required permissions are on each view's page (information-schema-datasets-schemata,
    // -table-options, -column-field-paths): datasets.get for SCHEMATA*, tables.get + list for the rest.
    const rows: Value[][] = [];
    switch (name) {
      case 'SCHEMATA':
        this.require(context.principal, 'bigquery.datasets.get', resource);
        for (const { resource: dataset } of scope) rows.push([project, dataset.datasetReference.datasetId, dataset.location]);
        return { columns: ['catalog_name', 'schema_name', 'location'], rows };
      case 'SCHEMATA_OPTIONS':
        this.require(context.principal, 'bigquery.datasets.get', resource);
        for (const { resource: dataset } of scope) for (const row of optionRows(dataset)) rows.push([project, dataset.datasetReference.datasetId, ...row]);
        return { columns: ['catalog_name', 'schema_name', 'option_name', 'option_type', 'option_value'], rows };
      case 'TABLES':
      case 'TABLE_OPTIONS':
      case 'COLUMN_FIELD_PATHS': {
        this.require(context.principal, 'bigquery.tables.list', resource);
        this.require(context.principal, 'bigquery.tables.get', resource);
        for (const dataset of scope)
          for (const table of dataset.tables.values()) {
            const { datasetId, tableId } = table.tableReference;
            if (name === 'TABLES') rows.push([project, datasetId, tableId, TABLE_TYPE[table.type] ?? table.type]);
            else if (name === 'TABLE_OPTIONS') for (const row of optionRows(table)) rows.push([project, datasetId, tableId, ...row]);
            else
              walkFields(table.schema.fields, [], (field, path) =>
                rows.push([project, datasetId, tableId, path[0] ?? '', path.join('.'), typeOf(field), field.description ?? null]),
              );
          }
        if (name === 'TABLES') return { columns: ['table_catalog', 'table_schema', 'table_name', 'table_type'], rows };
        if (name === 'TABLE_OPTIONS') return { columns: ['table_catalog', 'table_schema', 'table_name', 'option_name', 'option_type', 'option_value'], rows };
        return { columns: ['table_catalog', 'table_schema', 'table_name', 'column_name', 'field_path', 'data_type', 'description'], rows };
      }
      default:
        throw notFound(`${resource} (not emulated)`);
    }
  }

  /** `[project.]dataset[.table]`: the default project is the job's. */
  private path(stream: TokenStream, length: 2 | 3, project: string): string[] {
    const parts = stream.qualifiedName();
    if (parts.length === length - 1) return [project, ...parts];
    if (parts.length !== length) throw stream.fail(length === 2 ? 'a dataset name' : 'a table name');
    return parts;
  }

  /**
   * ALTER SCHEMA | TABLE | VIEW | MATERIALIZED VIEW ... SET OPTIONS, and ALTER TABLE / VIEW ...
   * ALTER COLUMN ... SET OPTIONS (data-definition-language page). The whole statement is checked
   * before anything changes: a failing clause leaves the object as it was.
   */
  private alter(stream: TokenStream, context: { project: string; principal: Principal }): string {
    if (stream.acceptKeyword('SCHEMA')) {
      const ifExists = stream.acceptKeyword('IF', 'EXISTS');
      const [project = '', datasetId = ''] = this.path(stream, 2, context.project);
      stream.expectKeyword('SET', 'OPTIONS');
      const options = parseOptions(stream, ['description', 'labels', 'friendly_name', 'default_table_expiration_days']);
      stream.expectEnd();
      const dataset = this.projects.get(project)?.get(datasetId);
      if (!dataset) {
        if (ifExists) return 'ALTER';
        throw notFound(`Dataset ${project}:${datasetId}`);
      }
      this.require(context.principal, 'bigquery.datasets.update', `Dataset ${project}:${datasetId}`);
      applyOptions(dataset.resource, options);
      this.touch(dataset.resource);
      return 'ALTER';
    }
    const kind = stream.acceptKeyword('MATERIALIZED', 'VIEW') ? 'MATERIALIZED_VIEW' : stream.acceptKeyword('VIEW') ? 'VIEW' : (stream.expectKeyword('TABLE'), 'TABLE');
    const ifExists = stream.acceptKeyword('IF', 'EXISTS');
    const [project = '', datasetId = '', tableId = ''] = this.path(stream, 3, context.project);
    const actions: ({ column?: undefined; options: Map<string, OptionValue> } | { column: string; ifExists: boolean; options: Map<string, OptionValue> })[] = [];
    do {
      if (stream.acceptKeyword('SET', 'OPTIONS')) actions.push({ options: parseOptions(stream, ['description', 'labels', 'friendly_name', 'expiration_timestamp']) });
      else if (kind !== 'MATERIALIZED_VIEW' && stream.acceptKeyword('ALTER', 'COLUMN')) {
        const columnIfExists = stream.acceptKeyword('IF', 'EXISTS');
        // column_name: one identifier, a top-level column (no field paths in DDL).
        const column = stream.expectIdentifier().value;
        if (stream.isSymbol('.')) throw stream.fail('SET');
        stream.expectKeyword('SET', 'OPTIONS');
        actions.push({ column, ifExists: columnIfExists, options: parseOptions(stream, ['description']) });
      } else throw stream.fail(kind === 'MATERIALIZED_VIEW' ? 'SET OPTIONS' : 'SET OPTIONS or ALTER COLUMN');
    } while (stream.acceptSymbol(','));
    stream.expectEnd();
    const table = this.projects.get(project)?.get(datasetId)?.tables.get(tableId);
    if (!table) {
      if (ifExists) return 'ALTER';
      throw notFound(`Table ${project}:${datasetId}.${tableId}`);
    }
    // Each ALTER names what the object is: ALTER TABLE on a view, or ALTER VIEW on a table, fails.
    const isKind = kind === 'TABLE' ? !['VIEW', 'MATERIALIZED_VIEW'].includes(table.type) : table.type === kind;
    if (!isKind) throw invalid(`${project}:${datasetId}.${tableId} is not a ${kind.replace('_', ' ').toLowerCase()}; use the ALTER statement of a ${(TABLE_TYPE[table.type] ?? table.type).toLowerCase()}`);
    this.require(context.principal, 'bigquery.tables.update', `Table ${project}:${datasetId}.${tableId}`);
    this.checkTableRate(table);
    const fields = structuredClone(table.schema.fields);
    const draft = { description: table.description, labels: table.labels } as { description?: string; labels?: Record<string, string> };
    for (const action of actions) {
      if (action.column === undefined) {
        applyOptions(draft, action.options);
        continue;
      }
      const field = fields.find((candidate) => candidate.name.toLowerCase() === action.column.toLowerCase());
      if (!field) {
        if (action.ifExists) continue;
        throw invalid(`Column ${action.column} not found in table ${project}:${datasetId}.${tableId}`);
      }
      const description = action.options.get('description');
      if (typeof description === 'string' && [...description].length > FIELD_DESCRIPTION_LENGTH)
        throw invalid(`The description of field ${field.name} is longer than ${FIELD_DESCRIPTION_LENGTH} characters`);
      if (description === null) delete field.description;
      else if (typeof description === 'string') field.description = description;
    }
    if (draft.description === undefined) delete table.description;
    else table.description = draft.description;
    if (draft.labels === undefined) delete table.labels;
    else table.labels = draft.labels;
    table.schema = { fields };
    this.touchTable(table);
    return 'ALTER';
  }
}

/** GoogleSQL column names are case-insensitive; the views' columns are lower case. */
function lowerColumnNames(query: Query): void {
  const visit = (expr: Expr | undefined): void => {
    if (!expr) return;
    switch (expr.kind) {
      case 'column':
        expr.parts[expr.parts.length - 1] = (expr.parts[expr.parts.length - 1] ?? '').toLowerCase();
        return;
      case 'binary':
        visit(expr.left);
        visit(expr.right);
        return;
      case 'not':
      case 'isNull':
        visit(expr.expr);
        return;
      case 'in':
        visit(expr.expr);
        expr.list.forEach(visit);
        return;
      case 'like':
        visit(expr.expr);
        visit(expr.pattern);
        return;
      case 'call':
        expr.args.forEach(visit);
        return;
      case 'literal':
        return;
    }
  };
  for (const select of query) {
    for (const item of select.items) visit(item.expr);
    visit(select.where);
    for (const order of select.orderBy) visit(order.expr);
  }
}

function walkFields(fields: readonly SchemaField[], prefix: string[], visit: (field: SchemaField, path: string[]) => void): void {
  for (const field of fields) {
    const path = [...prefix, field.name];
    visit(field, path);
    if (field.fields) walkFields(field.fields, path, visit);
  }
}

function typeOf(field: SchemaField): string {
  const base = field.type === 'RECORD' || field.type === 'STRUCT' ? `STRUCT<${(field.fields ?? []).map((inner) => `${inner.name} ${typeOf(inner)}`).join(', ')}>` : field.type;
  return field.mode === 'REPEATED' ? `ARRAY<${base}>` : base;
}

/** TABLE_OPTIONS / SCHEMATA_OPTIONS rows: option_name, option_type, option_value (a literal). */
function optionRows(resource: { description?: string; labels?: Record<string, string> }): Value[][] {
  const rows: Value[][] = [];
  if (resource.description !== undefined) rows.push(['description', 'STRING', literal(resource.description)]);
  const labels = Object.entries(resource.labels ?? {});
  if (labels.length > 0) rows.push(['labels', 'ARRAY<STRUCT<STRING, STRING>>', `[${labels.map(([key, value]) => `STRUCT(${literal(key)}, ${literal(value)})`).join(', ')}]`]);
  return rows;
}

/** `(name = value, ...)`: each name once, known to the statement. */
function parseOptions(stream: TokenStream, allowed: readonly string[]): Map<string, OptionValue> {
  const options = new Map<string, OptionValue>();
  stream.expectSymbol('(');
  do {
    const name = stream.expectIdentifier().value.toLowerCase();
    if (!allowed.includes(name)) throw new EngineError('invalidQuery', '400', `Unknown option: ${name}`);
    if (options.has(name)) throw new EngineError('invalidQuery', '400', `Duplicate option: ${name}`);
    stream.expectSymbol('=');
    options.set(name, parseOptionValue(stream, name));
  } while (stream.acceptSymbol(','));
  stream.expectSymbol(')');
  return options;
}

function parseOptionValue(stream: TokenStream, name: string): OptionValue {
  if (stream.acceptKeyword('NULL')) return null;
  if (name === 'labels') {
    if (stream.acceptKeyword('ARRAY')) {
      // ARRAY<STRUCT<STRING, STRING>>[...]: the type is skipped, the values are checked.
      if (stream.acceptSymbol('<')) {
        let depth = 1;
        while (depth > 0) {
          const token = stream.next();
          if (token.kind === 'end') throw stream.fail("'>'");
          if (token.kind === 'symbol' && token.value === '<') depth++;
          if (token.kind === 'symbol' && token.value === '>') depth--;
        }
      }
    }
    stream.expectSymbol('[');
    const pairs: [string, string][] = [];
    if (!stream.acceptSymbol(']')) {
      do {
        stream.acceptKeyword('STRUCT');
        stream.expectSymbol('(');
        const key = stringValue(stream);
        stream.expectSymbol(',');
        const value = stringValue(stream);
        stream.expectSymbol(')');
        pairs.push([key, value]);
      } while (stream.acceptSymbol(','));
      stream.expectSymbol(']');
    }
    return pairs;
  }
  if (name === 'default_table_expiration_days' || name === 'expiration_timestamp') {
    const token = stream.next();
    return token.value;
  }
  return stringValue(stream);
}

/** A STRING: literals separated by whitespace or comments concatenate. */
function stringValue(stream: TokenStream): string {
  let value = stream.expectString();
  while (stream.peek().kind === 'string') value += stream.expectString();
  return value;
}

function applyOptions(resource: { description?: string; labels?: Record<string, string>; friendlyName?: string }, options: Map<string, OptionValue>): void {
  for (const [name, value] of options) {
    if (name === 'description') {
      // "Setting the value to NULL clears the ... value for that option" (SET OPTIONS).
      if (value === null) delete resource.description;
      else resource.description = String(value);
    } else if (name === 'labels') {
      // "Setting labels overwrites all existing labels" (updating-labels page).
      if (value === null || (Array.isArray(value) && value.length === 0)) {
        delete resource.labels;
        continue;
      }
      const labels: Record<string, string> = {};
      for (const [key, label] of value as [string, string][]) {
        if (key in labels) throw invalid(`Duplicate label key: ${key}`);
        labels[key] = label;
      }
      checkLabels(labels);
      resource.labels = labels;
    } else if (name === 'friendly_name') {
      if (value === null) delete resource.friendlyName;
      else resource.friendlyName = String(value);
    }
  }
}
