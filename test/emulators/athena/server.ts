/**
 * Amazon Athena's API as the unmodified @aws-sdk/client-athena speaks it: awsJson1_1, every call a
 * `POST /` with `X-Amz-Target: AmazonAthena.<Operation>` and a JSON body, SigV4-signed (checked:
 * an unsigned or wrongly signed request is refused as AWS refuses it). Errors are HTTP 4xx/5xx
 * with `__type` and `message` (and `AthenaErrorCode` on InvalidRequestException).
 * API reference: https://docs.aws.amazon.com/athena/latest/APIReference/ (one page per call,
 * cited beside each).
 *
 * Queries follow Athena's state machine (API_QueryExecutionStatus.html): QUEUED, RUNNING, then
 * SUCCEEDED or FAILED with a StateChangeReason and an AthenaError. A statement that does not
 * parse is refused by StartQueryExecution itself (InvalidRequestException); a statement that
 * parses but cannot run (a missing table, a denied Glue action) starts and ends FAILED. Its effect
 * happens when it starts, as on the service, where a query runs whether or not anyone polls; what
 * GetQueryExecution reports moves one state per call.
 *
 * Callers are IAM principals with the actions their policy allows; each call needs its action, and
 * a DDL statement the Glue actions it performs (ALTER TABLE: glue:GetTable, glue:UpdateTable).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { startHttpEmulator, type RunningEmulator } from '../kit/harness.js';
import { EngineError } from '../kit/tokens.js';
import { AthenaCatalogs, type GlueTable } from './engine.js';
import { verifySignature, type Credential } from './sigv4.js';

export interface Principal extends Credential {
  /** The IAM user name shown in AccessDenied messages. */
  name: string;
  /** IAM actions the principal's policy allows (`athena:*` style wildcards too). */
  allow: string[];
}

/**
 * What an ordinary metaform role needs: the Athena calls it makes and the Glue actions behind
 * them. Dependent actions per the Service Authorization Reference for Athena
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonathena.html) and
 * Athena's Glue access page (https://docs.aws.amazon.com/athena/latest/ug/fine-grained-access-to-glue-resources.html).
 */
export const METAFORM_ROLE_ACTIONS = [
  'athena:ListDataCatalogs',
  'athena:ListDatabases',
  'athena:ListTableMetadata',
  'athena:GetTableMetadata',
  'athena:StartQueryExecution',
  'athena:GetQueryExecution',
  'athena:GetQueryResults',
  'glue:GetDatabases',
  'glue:GetTables',
  'glue:GetTable',
  'glue:UpdateTable',
];

export interface Workgroup {
  /** The workgroup's result location; used when the request names none. */
  outputLocation?: string;
}

export interface AthenaEmulatorOptions {
  catalogs?: AthenaCatalogs;
  principals?: Principal[];
  workgroups?: Record<string, Workgroup>;
  /** GetQueryExecution answers before a query's final state (QUEUED, then RUNNING): 2 by default. */
  pollsBeforeFinal?: number;
}

export interface AthenaEmulator extends RunningEmulator {
  connection: { region: string; endpoint: string; accessKeyId: string; secretAccessKey: string; workgroup: string; outputLocation: string };
  catalogs: AthenaCatalogs;
  principals: Map<string, Principal>;
  /** Every call, as its operation name. */
  calls: string[];
  /** Queries started, in order. */
  queries: QueryExecution[];
  /**
   * Fails the next `count` calls of `operation`: throttled (TooManyRequestsException), a server
   * fault (InternalServerException), or the connection reset before any answer.
   */
  failNext(operation: string, count: number, kind: 'throttle' | 'internal' | 'reset'): void;
  /** Runs a statement as an administrator, bypassing HTTP and IAM (fixtures and checks). */
  run(sql: string, catalog?: string): string[][];
}

export interface QueryExecution {
  id: string;
  query: string;
  catalog: string;
  database: string;
  workgroup: string;
  outputLocation: string;
  statementType: string;
  submitted: number;
  polls: number;
  final: { state: 'SUCCEEDED' } | { state: 'FAILED'; reason: string };
  columns: string[];
  rows: string[][];
}

type Body = Record<string, unknown>;
type Reply = { status: number; body: unknown; headers?: Record<string, string> };

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const JSON_HEADERS = { 'content-type': 'application/x-amz-json-1.1' };

const invalid = (message: string) => new ApiError('InvalidRequestException', message, 400, { AthenaErrorCode: 'INVALID_INPUT' });

/** The service's constraint message for a member outside its documented range. */
function checkRange(body: Body, member: string, min: number, max: number): number | undefined {
  const value = body[member];
  if (value === undefined) return undefined;
  const field = member.charAt(0).toLowerCase() + member.slice(1);
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalid(`1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: Member must be an integer`);
  if (value < min) throw invalid(`1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`);
  if (value > max) throw invalid(`1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must have value less than or equal to ${max}`);
  return value;
}

function required(body: Body, member: string): string {
  const value = body[member];
  if (typeof value !== 'string' || value === '') throw invalid(`1 validation error detected: Value null at '${member.charAt(0).toLowerCase() + member.slice(1)}' failed to satisfy constraint: Member must not be null`);
  return value;
}

/** One page of `items`, NextToken an opaque offset bound to the listing it came from. */
function page<T>(items: readonly T[], body: Body, listing: string, defaultSize: number, min: number, max: number): { items: T[]; NextToken?: string } {
  const size = checkRange(body, 'MaxResults', min, max) ?? defaultSize;
  let offset = 0;
  if (typeof body['NextToken'] === 'string') {
    const decoded = /^([0-9]+):(.*)$/s.exec(Buffer.from(body['NextToken'], 'base64url').toString('utf8'));
    if (!decoded || decoded[2] !== listing) throw invalid('Invalid NextToken');
    offset = Number(decoded[1]);
  }
  const slice = items.slice(offset, offset + size);
  const next = offset + size < items.length ? Buffer.from(`${offset + size}:${listing}`).toString('base64url') : undefined;
  return { items: slice, ...(next ? { NextToken: next } : {}) };
}

function tableMetadata(table: GlueTable): Record<string, unknown> {
  return { Name: table.Name, CreateTime: table.CreateTime, TableType: table.TableType, Columns: table.Columns, PartitionKeys: table.PartitionKeys, Parameters: { ...table.Parameters } };
}

function allows(principal: Principal, action: string): boolean {
  const [service] = action.split(':');
  return principal.allow.includes(action) || principal.allow.includes(`${service}:*`) || principal.allow.includes('*');
}

export async function startAthenaEmulator(options: AthenaEmulatorOptions = {}): Promise<AthenaEmulator> {
  const catalogs = options.catalogs ?? new AthenaCatalogs();
  const region = catalogs.region;
  const principals = new Map<string, Principal>();
  const service: Principal = { name: 'metaform-ci', accessKeyId: 'AKIAEMULATEDMETAFORM', secretAccessKey: 'emulated/secret+key', allow: METAFORM_ROLE_ACTIONS };
  for (const principal of options.principals ?? [service]) principals.set(principal.accessKeyId, principal);
  const workgroups = new Map(Object.entries(options.workgroups ?? { primary: {} }));
  const pollsBeforeFinal = options.pollsBeforeFinal ?? 2;
  const calls: string[] = [];
  const queries: QueryExecution[] = [];
  const byId = new Map<string, QueryExecution>();
  const byToken = new Map<string, string>();
  const failures: { operation: string; kind: 'throttle' | 'internal' | 'reset' }[] = [];

  const authorize = (principal: Principal, action: string, resource: string) => {
    if (!allows(principal, action))
      throw new ApiError('AccessDeniedException', `User: arn:aws:iam::${catalogs.account}:user/${principal.name} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`);
  };
  const workgroupArn = (name: string) => `arn:aws:athena:${region}:${catalogs.account}:workgroup/${name}`;
  const catalogArn = (name: string) => `arn:aws:athena:${region}:${catalogs.account}:datacatalog/${name}`;
  const workgroupOf = (body: Body): string => {
    const name = typeof body['WorkGroup'] === 'string' ? body['WorkGroup'] : 'primary';
    if (!workgroups.has(name)) throw invalid(`WorkGroup ${name} is not found.`);
    return name;
  };
  const metadata = <T>(work: () => T): T => {
    try {
      return work();
    } catch (error) {
      if (error instanceof EngineError) throw error.code === 'InvalidRequestException' ? invalid(error.message) : new ApiError(error.code, error.message);
      throw error;
    }
  };

  /** StartQueryExecution: parsed now (a syntax error is this call's error), run now, reported over the polls that follow. */
  const start = (principal: Principal, body: Body): Body => {
    const query = required(body, 'QueryString');
    const workgroup = workgroupOf(body);
    authorize(principal, 'athena:StartQueryExecution', workgroupArn(workgroup));
    // "A unique case-sensitive string ... If another StartQueryExecution request is received, the same response is returned and another query is not created" (API_StartQueryExecution.html).
    const token = body['ClientRequestToken'];
    if (typeof token === 'string') {
      if (token.length < 32 || token.length > 128) throw invalid(`1 validation error detected: Value '${token}' at 'clientRequestToken' failed to satisfy constraint: Member must have length between 32 and 128`);
      const known = byToken.get(token);
      if (known) return { QueryExecutionId: known };
    }
    const outputLocation = ((body['ResultConfiguration'] as Body | undefined)?.['OutputLocation'] as string | undefined) ?? workgroups.get(workgroup)?.outputLocation;
    if (!outputLocation) throw invalid('No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input.');
    const context = (body['QueryExecutionContext'] as Body | undefined) ?? {};
    const catalog = typeof context['Catalog'] === 'string' ? context['Catalog'] : 'awsdatacatalog';
    const database = typeof context['Database'] === 'string' ? context['Database'] : 'default';
    const plan = metadata(() => catalogs.plan(query, catalog, database, false));
    const execution: QueryExecution = {
      id: randomUUID(),
      query,
      catalog,
      database,
      workgroup,
      outputLocation,
      statementType: plan.statementType,
      submitted: Date.now() / 1000,
      polls: 0,
      final: { state: 'SUCCEEDED' },
      columns: [],
      rows: [],
    };
    try {
      for (const { action, resource } of plan.glueActions) authorize(principal, action, resource);
      const result = plan.run();
      execution.columns = result.columns;
      execution.rows = result.rows;
    } catch (error) {
      if (!(error instanceof ApiError || error instanceof EngineError)) throw error;
      const type = error instanceof ApiError ? error.type : error.code;
      execution.final = { state: 'FAILED', reason: type === 'FAILED' ? error.message : `${type}: ${error.message}` };
    }
    queries.push(execution);
    byId.set(execution.id, execution);
    if (typeof token === 'string') byToken.set(token, execution.id);
    return { QueryExecutionId: execution.id };
  };

  const executionOf = (principal: Principal, body: Body, action: string): QueryExecution => {
    const id = required(body, 'QueryExecutionId');
    const execution = byId.get(id);
    if (!execution) throw invalid(`QueryExecution ${id} was not found`);
    authorize(principal, action, workgroupArn(execution.workgroup));
    return execution;
  };
  const stateOf = (execution: QueryExecution) => (execution.polls <= pollsBeforeFinal ? (execution.polls <= pollsBeforeFinal - 1 ? 'QUEUED' : 'RUNNING') : execution.final.state);

  const operations: Record<string, (principal: Principal, body: Body) => Body> = {
    // API_StartQueryExecution.html
    StartQueryExecution: start,
    // API_GetQueryExecution.html, API_QueryExecutionStatus.html; AthenaError.ErrorCategory 2 = user error (API_AthenaError.html).
    GetQueryExecution: (principal, body) => {
      const execution = executionOf(principal, body, 'athena:GetQueryExecution');
      execution.polls++;
      const state = stateOf(execution);
      const done = state === 'SUCCEEDED' || state === 'FAILED';
      const failed = execution.final.state === 'FAILED' && state === 'FAILED' ? execution.final.reason : undefined;
      return {
        QueryExecution: {
          QueryExecutionId: execution.id,
          Query: execution.query,
          StatementType: execution.statementType,
          ResultConfiguration: { OutputLocation: `${execution.outputLocation.replace(/\/?$/, '/')}${execution.id}.txt` },
          QueryExecutionContext: { Catalog: execution.catalog, Database: execution.database },
          Status: {
            State: state,
            SubmissionDateTime: execution.submitted,
            ...(done ? { CompletionDateTime: Date.now() / 1000 } : {}),
            ...(failed ? { StateChangeReason: failed, AthenaError: { ErrorCategory: 2, Retryable: false, ErrorMessage: failed } } : {}),
          },
          WorkGroup: execution.workgroup,
          EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
        },
      };
    },
    // API_GetQueryResults.html: MaxResults up to 1000; only a SUCCEEDED query has results.
    GetQueryResults: (principal, body) => {
      const execution = executionOf(principal, body, 'athena:GetQueryResults');
      const state = stateOf(execution);
      if (state === 'FAILED') throw invalid(`Query did not finish successfully. Final query state: FAILED\n${execution.final.state === 'FAILED' ? execution.final.reason : ''}`);
      if (state !== 'SUCCEEDED') throw invalid(`Query has not yet finished. Current state: ${state}`);
      const rows = page(execution.rows, body, `results/${execution.id}`, 1000, 1, 1000);
      return {
        UpdateCount: 0,
        ResultSet: {
          Rows: rows.items.map((row) => ({ Data: row.map((value) => ({ VarCharValue: value })) })),
          ResultSetMetadata: { ColumnInfo: execution.columns.map((name) => ({ CatalogName: 'hive', SchemaName: '', TableName: '', Name: name, Label: name, Type: 'varchar', Precision: 0, Scale: 0, Nullable: 'UNKNOWN', CaseSensitive: false })) },
        },
        ...(rows.NextToken ? { NextToken: rows.NextToken } : {}),
      };
    },
    // API_ListDataCatalogs.html: MaxResults 2 to 50.
    ListDataCatalogs: (principal, body) => {
      authorize(principal, 'athena:ListDataCatalogs', `arn:aws:athena:${region}:${catalogs.account}:datacatalog/*`);
      const listed = page([...catalogs.catalogs.values()], body, 'catalogs', 50, 2, 50);
      return { DataCatalogsSummary: listed.items.map((catalog) => ({ CatalogName: catalog.CatalogName, Type: catalog.Type })), ...(listed.NextToken ? { NextToken: listed.NextToken } : {}) };
    },
    // API_ListDatabases.html: CatalogName required, MaxResults 1 to 50.
    ListDatabases: (principal, body) => {
      const catalogName = required(body, 'CatalogName');
      workgroupOf(body);
      authorize(principal, 'athena:ListDatabases', catalogArn(catalogName));
      authorize(principal, 'glue:GetDatabases', `arn:aws:glue:${region}:${catalogs.account}:catalog`);
      const databases = metadata(() => [...catalogs.catalog(catalogName).databases.values()]);
      const listed = page(databases, body, `databases/${catalogName}`, 50, 1, 50);
      return {
        DatabaseList: listed.items.map((database) => ({ Name: database.Name, ...(database.Description === undefined ? {} : { Description: database.Description }), Parameters: {} })),
        ...(listed.NextToken ? { NextToken: listed.NextToken } : {}),
      };
    },
    // API_ListTableMetadata.html: CatalogName and DatabaseName required, MaxResults 1 to 50, Expression a regex on names.
    ListTableMetadata: (principal, body) => {
      const catalogName = required(body, 'CatalogName');
      const databaseName = required(body, 'DatabaseName');
      workgroupOf(body);
      authorize(principal, 'athena:ListTableMetadata', catalogArn(catalogName));
      authorize(principal, 'glue:GetTables', `arn:aws:glue:${region}:${catalogs.account}:database/${databaseName}`);
      const expression = typeof body['Expression'] === 'string' && body['Expression'] !== '' ? new RegExp(`^(?:${body['Expression']})$`) : undefined;
      const tables = metadata(() => [...catalogs.database(catalogName, databaseName).tables.values()]).filter((table) => !expression || expression.test(table.Name));
      const listed = page(tables, body, `tables/${catalogName}/${databaseName}/${String(body['Expression'] ?? '')}`, 50, 1, 50);
      return { TableMetadataList: listed.items.map(tableMetadata), ...(listed.NextToken ? { NextToken: listed.NextToken } : {}) };
    },
    // API_GetTableMetadata.html
    GetTableMetadata: (principal, body) => {
      const catalogName = required(body, 'CatalogName');
      const databaseName = required(body, 'DatabaseName');
      const tableName = required(body, 'TableName');
      authorize(principal, 'athena:GetTableMetadata', catalogArn(catalogName));
      authorize(principal, 'glue:GetTable', `arn:aws:glue:${region}:${catalogs.account}:table/${databaseName}/${tableName}`);
      return { TableMetadata: tableMetadata(metadata(() => catalogs.table(catalogName, databaseName, tableName))) };
    },
  };

  const handle = async (request: IncomingMessage, raw: Buffer): Promise<Reply> => {
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AmazonAthena.') ? target.slice('AmazonAthena.'.length) : '';
    calls.push(operation || target);
    try {
      if (request.method !== 'POST') throw new ApiError('UnknownOperationException', '', 404);
      const signed = verifySignature(request, raw, 'athena', (id) => principals.get(id));
      if (typeof signed !== 'string') throw new ApiError(signed.type, signed.message, signed.status);
      const principal = principals.get(signed) as Principal;
      if (!String(request.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) throw new ApiError('SerializationException', 'Unsupported content type', 400);
      const run = operations[operation];
      if (!run) throw new ApiError('UnknownOperationException', '', 400);
      const failure = failures.findIndex((entry) => entry.operation === operation);
      if (failure >= 0) {
        const kind = failures.splice(failure, 1)[0]?.kind;
        if (kind === 'reset') {
          request.socket.destroy();
          return { status: 500, body: '' };
        }
        if (kind === 'throttle') throw new ApiError('TooManyRequestsException', 'Rate exceeded', 400, { Reason: 'CONCURRENT_QUERY_LIMIT_EXCEEDED' });
        throw new ApiError('InternalServerException', 'Internal service error', 500);
      }
      let body: Body;
      try {
        body = raw.length ? (JSON.parse(raw.toString('utf8')) as Body) : {};
      } catch {
        throw new ApiError('SerializationException', 'Start of structure or map found where not expected', 400);
      }
      return { status: 200, body: run(principal, body), headers: JSON_HEADERS };
    } catch (error) {
      if (error instanceof EngineError) return { status: 400, body: { __type: 'InvalidRequestException', message: error.message, AthenaErrorCode: error.sqlState || 'INVALID_INPUT' }, headers: JSON_HEADERS };
      if (!(error instanceof ApiError)) throw error;
      return { status: error.status, body: { __type: error.type, message: error.message, ...error.extra }, headers: { ...JSON_HEADERS, 'x-amzn-errortype': error.type } };
    }
  };

  const running = await startHttpEmulator(handle);
  const [first] = principals.values();
  const defaultWorkgroup = workgroups.has('primary') ? 'primary' : ([...workgroups.keys()][0] ?? 'primary');
  return {
    ...running,
    connection: {
      region,
      endpoint: running.url,
      accessKeyId: first?.accessKeyId ?? '',
      secretAccessKey: first?.secretAccessKey ?? '',
      workgroup: defaultWorkgroup,
      outputLocation: 's3://emulated-athena-results/metaform/',
    },
    catalogs,
    principals,
    calls,
    queries,
    failNext: (operation, count, kind) => {
      for (let i = 0; i < count; i++) failures.push({ operation, kind });
    },
    run: (sql, catalog = 'awsdatacatalog') => catalogs.plan(sql, catalog, 'default', true).run().rows,
  };
}
