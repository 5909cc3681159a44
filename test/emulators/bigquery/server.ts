/**
 * BigQuery REST v2 as @google-cloud/bigquery 8 speaks it
 * (https://cloud.google.com/bigquery/docs/reference/rest): datasets and tables list/get/patch
 * with etags (If-Match; a stale one answers 412), jobs.query and jobs.insert with
 * getQueryResults paging, jobReference and location; errors as
 * `{error: {code, message, errors: [{reason}], status}}`. Callers are told apart by their bearer
 * token; each has IAM roles on the project.
 */
import { createPublicKey, randomUUID, verify } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Relation, Value } from '../kit/select.js';
import { startHttpEmulator, type RunningEmulator } from '../kit/harness.js';
import { ADMIN, ApiError, BigQueryEngine, checkLabels, invalid, notFound, type Principal, type SchemaField, type TableResource } from './engine.js';

export interface BigQueryEmulatorOptions {
  projectId?: string;
  location?: string;
  /** Bearer tokens and who they are; default: one dataEditor + jobUser caller with token `metaform-token`. */
  principals?: Record<string, Principal>;
  /**
   * Service accounts by email: their public key (PEM) and roles. A self-signed JWT
   * (https://google.aip.dev/auth/4111, what google-auth-library sends for a key outside the
   * default universe) signed by the key authenticates as the account.
   */
  serviceAccounts?: Record<string, { publicKey: string; roles: readonly string[] }>;
  /** Rows per result page (the real service pages at about 10 MB). */
  pageRows?: number;
}

export interface BigQueryEmulator extends RunningEmulator {
  engine: BigQueryEngine;
  /** What a user puts under `connection:` in metaform.yaml to reach this emulator. */
  connection: { projectId: string; location: string; apiEndpoint: string; accessToken: string };
  principals: Map<string, Principal>;
  /** Runs one statement as the administrator (fixtures and checks). */
  run(sql: string): Relation | undefined;
  /** The next `count` requests whose `METHOD path` contains `match` answer `status` (or drop the connection: 0). */
  failNext(count: number, status: number, match: string): void;
  /**
   * Answer this many next jobs.query calls with `jobComplete: false` (no rows yet), so the client
   * polls getQueryResults, as it does for a query that outlasts jobs.query's timeoutMs.
   */
  incompleteNext: number;
  /** Called with `METHOD path` before each request is answered (a test changes state in between). */
  hooks: { onRequest?: (line: string) => void | Promise<void> };
}

interface Job {
  id: string;
  project: string;
  location: string;
  query: string;
  relation?: Relation;
  ddl?: string;
  principal: Principal;
}

const errorBody = (error: ApiError) => ({
  status: error.status,
  body: { error: { code: error.status, message: error.message, errors: [{ message: error.message, domain: 'global', reason: error.reason }], status: error.grpcStatus } },
});

function schemaOf(relation: Relation): { fields: { name: string; type: string; mode: string }[] } {
  return {
    fields: relation.columns.map((name, i) => {
      const numeric = relation.rows.length > 0 && relation.rows.every((row) => row[i] === null || typeof row[i] === 'number');
      return { name, type: numeric ? 'INTEGER' : 'STRING', mode: 'NULLABLE' };
    }),
  };
}

const cell = (value: Value) => ({ v: value === null ? null : String(value) });

/** Keeps only the fields a PATCH may set here; anything else in the body is refused by name. */
const DATASET_PATCHABLE = new Set(['description', 'labels', 'friendlyName', 'etag', 'datasetReference', 'kind', 'id', 'location']);
const TABLE_PATCHABLE = new Set(['description', 'labels', 'friendlyName', 'schema', 'etag', 'tableReference', 'kind', 'id', 'type', 'location']);

/** The attributes of a field a schema patch must send back unchanged: only descriptions may differ. */
function sameExceptDescriptions(before: readonly SchemaField[], after: readonly SchemaField[], path: string): void {
  if (before.length !== after.length) throw invalid(`Provided Schema does not match Table ${path}. Cannot add or remove fields in a metadata patch.`);
  before.forEach((field, i) => {
    const { description: _a, fields: innerBefore, ...restBefore } = field;
    const { description: _b, fields: innerAfter, ...restAfter } = after[i] as SchemaField;
    const normal = (attributes: Record<string, unknown>) => JSON.stringify({ ...attributes, type: attributes['type'] === 'STRUCT' ? 'RECORD' : attributes['type'], mode: attributes['mode'] ?? 'NULLABLE' });
    if (normal(restBefore) !== normal(restAfter)) throw invalid(`Provided Schema does not match Table ${path}. Field ${field.name} has changed attributes.`);
    sameExceptDescriptions(innerBefore ?? [], innerAfter ?? [], path);
  });
}

export async function startBigQueryEmulator(options: BigQueryEmulatorOptions = {}): Promise<BigQueryEmulator> {
  const projectId = options.projectId ?? 'metaform-test';
  const location = options.location ?? 'US';
  const engine = new BigQueryEngine();
  const principals = new Map(Object.entries(options.principals ?? { 'metaform-token': { email: 'metaform@metaform-test.iam.gserviceaccount.com', roles: ['roles/bigquery.dataOwner', 'roles/bigquery.jobUser'] } }));
  const pageRows = options.pageRows ?? 5000;
  const jobs = new Map<string, Job>();
  const byRequestId = new Map<string, string>();
  const failures: { count: number; status: number; match: string }[] = [];
  const hooks: { onRequest?: (line: string) => void | Promise<void> } = {};

  const caller = (request: IncomingMessage): Principal => {
    const header = request.headers['authorization'];
    const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
    const principal = token === undefined ? undefined : (principals.get(token) ?? serviceAccount(token));
    if (!principal) throw new ApiError(401, 'unauthorized', 'UNAUTHENTICATED', 'Request is missing required authentication credential. Expected OAuth 2 access token.');
    return principal;
  };

  /** The account a self-signed RS256 JWT names, if its signature, issuer and expiry hold. */
  const serviceAccount = (token: string): Principal | undefined => {
    const [header, payload, signature] = token.split('.');
    if (!header || !payload || !signature) return undefined;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: string; sub?: string; exp?: number };
    const email = claims.iss;
    const account = email === undefined ? undefined : options.serviceAccounts?.[email];
    if (email === undefined || !account || claims.sub !== email || (claims.exp ?? 0) * 1000 < Date.now()) return undefined;
    const valid = verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), createPublicKey(account.publicKey), Buffer.from(signature, 'base64url'));
    return valid ? { email, roles: account.roles } : undefined;
  };

  const runJob = (job: Job) => {
    const result = engine.run(job.query, { project: job.project, location: job.location, principal: job.principal });
    if (result.relation) job.relation = result.relation;
    if (result.ddl) job.ddl = result.ddl;
  };

  const reference = (job: Job) => ({ projectId: job.project, jobId: job.id, location: job.location });

  /** A page of a job's result, from row `start`; the pageToken is the next row. */
  const page = (job: Job, start: number, maxResults: number | undefined) => {
    const rows = job.relation?.rows ?? [];
    const size = Math.min(maxResults ?? pageRows, pageRows);
    const end = Math.min(start + size, rows.length);
    return {
      kind: 'bigquery#getQueryResultsResponse',
      jobReference: reference(job),
      jobComplete: true,
      totalRows: String(rows.length),
      ...(job.relation ? { schema: schemaOf(job.relation), rows: rows.slice(start, end).map((row) => ({ f: row.map(cell) })) } : {}),
      ...(end < rows.length ? { pageToken: String(end) } : {}),
      ...(job.ddl ? { ddlOperationPerformed: job.ddl } : {}),
    };
  };

  const jobResource = (job: Job) => ({
    kind: 'bigquery#job',
    id: `${job.project}:${job.location}.${job.id}`,
    jobReference: reference(job),
    configuration: { query: { query: job.query, useLegacySql: false } },
    status: { state: 'DONE' },
    statistics: { creationTime: String(Date.now()), query: { statementType: job.ddl ? 'ALTER_TABLE' : 'SELECT' } },
  });

  /** The job's location must be the one asked for (getQueryResults?location=...). */
  const jobOf = (project: string, id: string, url: URL) => {
    const job = jobs.get(id);
    const asked = url.searchParams.get('location');
    if (!job || job.project !== project || (asked !== null && asked.toLowerCase() !== job.location.toLowerCase())) throw notFound(`Job ${project}:${asked ?? location}.${id}`);
    return job;
  };

  const running = await startHttpEmulator(async (request, body) => {
    const url = new URL(request.url ?? '/', 'http://emulator');
    // apiEndpoint gives /bigquery/v2/projects/...; BIGQUERY_EMULATOR_HOST may give /projects/...
    const path = url.pathname.replace(/^\/bigquery\/v2/, '');
    const line = `${request.method} ${path}`;
    await hooks.onRequest?.(line);
    const failure = failures.find((candidate) => candidate.count > 0 && line.includes(candidate.match));
    if (failure) {
      failure.count--;
      if (failure.status === 0) {
        request.socket.destroy();
        return { status: 500, body: '' };
      }
      return errorBody(new ApiError(failure.status, failure.status === 503 ? 'backendError' : 'internalError', 'UNAVAILABLE', 'The service is currently unavailable.'));
    }
    const json = () => (body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>));
    try {
      const principal = caller(request);
      const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
      if (parts[0] !== 'projects' || parts[1] === undefined) throw notFound(`URL ${path}`);
      const project = parts[1];
      const [, , collection, id, sub, subId] = parts;
      if (collection === 'queries' && request.method === 'POST' && id === undefined) {
        // jobs.query: run, answer the first page; a repeated requestId is the same job.
        const query = json() as { query?: string; location?: string; maxResults?: number; requestId?: string; useLegacySql?: boolean };
        if (query.useLegacySql !== false) throw invalid('Legacy SQL is not emulated: send useLegacySql: false');
        engine.require(principal, 'bigquery.jobs.create', `Project ${project}`);
        const known = query.requestId === undefined ? undefined : byRequestId.get(query.requestId);
        let job = known === undefined ? undefined : jobs.get(known);
        if (!job) {
          job = { id: `job_${randomUUID().replaceAll('-', '')}`, project, location: query.location ?? location, query: String(query.query ?? ''), principal };
          runJob(job);
          jobs.set(job.id, job);
          if (query.requestId !== undefined) byRequestId.set(query.requestId, job.id);
        }
        if (emulator.incompleteNext > 0) {
          emulator.incompleteNext--;
          return { status: 200, body: { kind: 'bigquery#queryResponse', jobReference: reference(job), queryId: job.id, jobComplete: false } };
        }
        return { status: 200, body: { ...page(job, 0, query.maxResults), kind: 'bigquery#queryResponse', queryId: job.id } };
      }
      if (collection === 'queries' && request.method === 'GET' && id !== undefined) {
        const job = jobOf(project, id, url);
        const maxResults = url.searchParams.get('maxResults');
        return { status: 200, body: page(job, Number(url.searchParams.get('pageToken') ?? 0), maxResults === null ? undefined : Number(maxResults)) };
      }
      if (collection === 'jobs' && request.method === 'POST' && id === undefined) {
        const insert = json() as { configuration?: { query?: { query?: string; useLegacySql?: boolean } }; jobReference?: { jobId?: string; location?: string } };
        engine.require(principal, 'bigquery.jobs.create', `Project ${project}`);
        const job: Job = {
          id: insert.jobReference?.jobId ?? `job_${randomUUID().replaceAll('-', '')}`,
          project,
          location: insert.jobReference?.location ?? location,
          query: String(insert.configuration?.query?.query ?? ''),
          principal,
        };
        if (jobs.has(job.id)) throw new ApiError(409, 'duplicate', 'ALREADY_EXISTS', `Already Exists: Job ${project}:${job.location}.${job.id}`);
        runJob(job);
        jobs.set(job.id, job);
        return { status: 200, body: jobResource(job) };
      }
      if (collection === 'jobs' && request.method === 'GET' && id !== undefined) return { status: 200, body: jobResource(jobOf(project, id, url)) };

      if (collection === 'datasets') {
        if (id === undefined && request.method === 'GET') {
          engine.require(principal, 'bigquery.datasets.get', `Project ${project}`);
          const all = [...(engine.projects.get(project)?.values() ?? [])];
          const start = Number(url.searchParams.get('pageToken') ?? 0);
          const size = Math.min(Number(url.searchParams.get('maxResults') ?? pageRows), pageRows);
          // List items are projections: no description (REST datasets.list).
          const datasets = all.slice(start, start + size).map(({ resource }) => ({
            kind: resource.kind,
            id: resource.id,
            datasetReference: resource.datasetReference,
            location: resource.location,
            ...(resource.labels ? { labels: resource.labels } : {}),
          }));
          return { status: 200, body: { kind: 'bigquery#datasetList', datasets, ...(start + size < all.length ? { nextPageToken: String(start + size) } : {}) } };
        }
        if (id === undefined) throw notFound(`URL ${path}`);
        const dataset = engine.dataset(project, id);
        if (sub === undefined) {
          if (request.method === 'GET') {
            engine.require(principal, 'bigquery.datasets.get', `Dataset ${project}:${id}`);
            return { status: 200, body: dataset.resource, headers: { etag: dataset.resource.etag } };
          }
          if (request.method === 'PATCH') {
            engine.require(principal, 'bigquery.datasets.update', `Dataset ${project}:${id}`);
            const match = request.headers['if-match'];
            // Optimistic concurrency: an If-Match etag other than the current one is a 412.
            if (typeof match === 'string' && match !== dataset.resource.etag) throw new ApiError(412, 'conditionNotMet', 'FAILED_PRECONDITION', 'Precondition check failed.');
            const patch = json();
            for (const key of Object.keys(patch)) if (!DATASET_PATCHABLE.has(key)) throw invalid(`Field ${key} cannot be patched in this emulator`);
            const next = { ...dataset.resource };
            if ('description' in patch) {
              if (patch['description'] === null) delete next.description;
              else next.description = String(patch['description']);
            }
            if ('labels' in patch) next.labels = mergeLabels(next.labels, patch['labels']);
            dataset.resource = next;
            engine.touch(next);
            return { status: 200, body: next };
          }
        }
        if (sub === 'tables' && subId === undefined && request.method === 'GET') {
          engine.require(principal, 'bigquery.tables.list', `Dataset ${project}:${id}`);
          const all = [...dataset.tables.values()];
          const start = Number(url.searchParams.get('pageToken') ?? 0);
          const size = Math.min(Number(url.searchParams.get('maxResults') ?? pageRows), pageRows);
          const tables = all.slice(start, start + size).map((table) => ({
            kind: table.kind,
            id: table.id,
            tableReference: table.tableReference,
            type: table.type,
            ...(table.labels ? { labels: table.labels } : {}),
          }));
          return { status: 200, body: { kind: 'bigquery#tableList', tables, totalItems: all.length, ...(start + size < all.length ? { nextPageToken: String(start + size) } : {}) } };
        }
        if (sub === 'tables' && subId !== undefined) {
          const table = engine.table(project, id, subId);
          if (request.method === 'GET') {
            engine.require(principal, 'bigquery.tables.get', `Table ${project}:${id}.${subId}`);
            return { status: 200, body: table, headers: { etag: table.etag } };
          }
          if (request.method === 'PATCH') {
            engine.require(principal, 'bigquery.tables.update', `Table ${project}:${id}.${subId}`);
            const match = request.headers['if-match'];
            if (typeof match === 'string' && match !== table.etag) throw new ApiError(412, 'conditionNotMet', 'FAILED_PRECONDITION', 'Precondition check failed.');
            const patch = json();
            for (const key of Object.keys(patch)) if (!TABLE_PATCHABLE.has(key)) throw invalid(`Field ${key} cannot be patched in this emulator`);
            const next: TableResource = { ...table };
            if ('description' in patch) {
              if (patch['description'] === null) delete next.description;
              else next.description = String(patch['description']);
            }
            if ('labels' in patch) next.labels = mergeLabels(next.labels, patch['labels']);
            if ('schema' in patch) {
              const fields = (patch['schema'] as { fields?: SchemaField[] } | null)?.fields ?? [];
              sameExceptDescriptions(table.schema.fields, fields, `${project}:${id}.${subId}`);
              checkDescriptions(fields);
              next.schema = { fields: structuredClone(fields) };
            }
            engine.checkTableRate(table);
            dataset.tables.set(subId, next);
            engine.touchTable(next);
            return { status: 200, body: next };
          }
        }
      }
      throw notFound(`URL ${request.method} ${path}`);
    } catch (error) {
      if (error instanceof ApiError) return errorBody(error);
      throw error;
    }
  });

  const emulator: BigQueryEmulator = {
    ...running,
    incompleteNext: 0,
    engine,
    principals,
    connection: { projectId, location, apiEndpoint: running.url, accessToken: [...principals.keys()][0] ?? '' },
    run: (sql) => engine.run(sql, { project: projectId, location, principal: ADMIN }).relation,
    failNext: (count, status, match) => failures.push({ count, status, match }),
    hooks,
  };
  return emulator;
}

/** PATCH labels merge: a key set to null is removed (REST Dataset.labels / Table.labels). */
function mergeLabels(current: Record<string, string> | undefined, patch: unknown): Record<string, string> | undefined {
  if (patch === null) return undefined;
  const changes = patch as Record<string, string | null>;
  checkLabels(changes);
  const merged: Record<string, string> = { ...current };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  checkLabels(merged);
  return Object.keys(merged).length === 0 ? undefined : merged;
}

function checkDescriptions(fields: readonly SchemaField[]): void {
  for (const field of fields) {
    if (field.description !== undefined && [...field.description].length > 1024) throw invalid(`The description of field ${field.name} is longer than 1024 characters`);
    checkDescriptions(field.fields ?? []);
  }
}
