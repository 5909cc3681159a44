/**
 * Snowflake's REST protocol as snowflake-sdk speaks it (JSON over HTTP): login-request with
 * password, key-pair JWT or OAuth token; query-request answered inline, through result polling
 * (code 333333 then GET of the result URL) or in chunks; SQL errors as HTTP 200 with
 * success:false, Snowflake's code and data.sqlState; telemetry, heartbeat and logout.
 */
import { createPublicKey, randomUUID, verify } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Relation, Value } from '../kit/select.js';
import { EngineError } from '../kit/tokens.js';
import { startHttpEmulator, type RunningEmulator } from '../kit/harness.js';
import { SnowflakeEngine, type SessionContext, type StatementResult } from './engine.js';

export interface EmulatedUser {
  password?: string;
  /** PEM public key for key-pair (SNOWFLAKE_JWT) login. */
  publicKey?: string;
  /** An OAuth access token that logs this user in. */
  oauthToken?: string;
  defaultRole?: string;
}

export interface SnowflakeEmulatorOptions {
  account?: string;
  users?: Record<string, EmulatedUser>;
  /** Rows per result chunk; results longer than this are sent as chunks after the first. */
  chunkRows?: number;
  /** Rows past which an INFORMATION_SCHEMA query fails with 090030 (see SnowflakeEngine). */
  informationSchemaRowLimit?: number;
  /** Refuse SELECTs from sessions without a warehouse (see SnowflakeEngine.requireWarehouse). */
  requireWarehouse?: boolean;
}

export interface SnowflakeEmulator extends RunningEmulator {
  account: string;
  engine: SnowflakeEngine;
  users: Map<string, EmulatedUser>;
  /** Answer the next queries as still running (code 333333), so the client polls for the result. */
  pollNextQueries: number;
  /** Statements that fail once with a retryable error before succeeding (by exact text). */
  failOnce: Set<string>;
  /** Runs SQL as ACCOUNTADMIN, bypassing HTTP (fixtures and checks). */
  run(sql: string): Relation;
  /** What a user puts under `connection:` in metaform.yaml to reach it: the first user, with its password. */
  connection: { account: string; user: string; password: string; accessUrl: string };
}

interface Session extends SessionContext {
  id: number;
  warehouse: string | null;
}

const ok = (data: unknown) => ({ status: 200, body: { success: true, code: null, message: null, data } });
const failure = (code: string, message: string, data: Record<string, unknown> = {}) => ({ status: 200, body: { success: false, code, message, data } });

function queryParameters(request: IncomingMessage): URLSearchParams {
  return new URL(request.url ?? '/', 'http://emulator').searchParams;
}

function rowtype(result: Relation): object[] {
  return result.columns.map((name, i) => {
    const numeric = result.rows.length > 0 && result.rows.every((row) => row[i] === null || typeof row[i] === 'number');
    return {
      name,
      database: '',
      schema: '',
      table: '',
      type: numeric ? 'fixed' : 'text',
      precision: numeric ? 38 : null,
      scale: numeric ? 0 : null,
      length: numeric ? null : 16777216,
      byteLength: numeric ? null : 16777216,
      nullable: true,
      collation: null,
    };
  });
}

const cell = (value: Value): string | null => (value === null ? null : typeof value === 'string' ? value : String(value));

/** Verifies an RS256 JWT against a PEM public key; returns its claims. */
function verifyJwt(token: string, publicKey: string): Record<string, unknown> | undefined {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return undefined;
  const valid = verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), createPublicKey(publicKey), Buffer.from(signature, 'base64url'));
  return valid ? (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>) : undefined;
}

export async function startSnowflakeEmulator(options: SnowflakeEmulatorOptions = {}): Promise<SnowflakeEmulator> {
  const account = (options.account ?? 'emulated').toUpperCase();
  const engine = new SnowflakeEngine();
  engine.informationSchemaRowLimit = options.informationSchemaRowLimit;
  engine.requireWarehouse = options.requireWarehouse ?? false;
  const users = new Map(Object.entries(options.users ?? { METAFORM: { password: 'secret' } }).map(([name, user]) => [name.toUpperCase(), user]));
  const sessions = new Map<string, Session>();
  const results = new Map<string, { result: StatementResult; session: Session }>();
  const chunks = new Map<string, string>();
  const chunkRows = options.chunkRows ?? 1000;
  let nextSession = 1;

  const resultBody = (queryId: string, result: StatementResult, session: Session) => {
    const rows = result.rows.map((row) => row.map(cell));
    const inline = rows.slice(0, chunkRows);
    const data: Record<string, unknown> = {
      parameters: [],
      rowtype: rowtype(result),
      rowset: inline,
      total: rows.length,
      returned: rows.length,
      queryId,
      finalDatabaseName: session.database,
      finalSchemaName: session.schema,
      finalWarehouseName: session.warehouse,
      finalRoleName: session.role,
      numberOfBinds: 0,
      statementTypeId: result.statementTypeId,
      version: 1,
      queryResultFormat: 'json',
      queryContext: { entries: [] },
    };
    if (rows.length > chunkRows) {
      const list: object[] = [];
      for (let start = chunkRows, n = 0; start < rows.length; start += chunkRows, n++) {
        const part = rows.slice(start, start + chunkRows);
        // The body is rows joined by commas without the enclosing brackets; the client adds them.
        const body = part.map((row) => JSON.stringify(row)).join(',');
        chunks.set(`${queryId}/${n}`, body);
        list.push({ url: `${emulator.url}/chunks/${queryId}/${n}`, rowCount: part.length, uncompressedSize: Buffer.byteLength(body), compressedSize: Buffer.byteLength(body) });
      }
      data['chunks'] = list;
      data['chunkHeaders'] = {};
    }
    return ok(data);
  };

  const running = await startHttpEmulator(async (request, body) => {
    const url = new URL(request.url ?? '/', 'http://emulator');
    const path = url.pathname;
    if (request.method === 'POST' && path === '/session/v1/login-request') {
      const data = (JSON.parse(body.toString('utf8')) as { data: Record<string, unknown> }).data;
      const login = String(data['LOGIN_NAME'] ?? '').toUpperCase();
      const user = users.get(login);
      const authenticator = String(data['AUTHENTICATOR'] ?? 'SNOWFLAKE').toUpperCase();
      if (String(data['ACCOUNT_NAME'] ?? '').toUpperCase() !== account) return failure('390201', `The requested account '${String(data['ACCOUNT_NAME'])}' does not exist.`);
      let authenticated = false;
      if (user && authenticator === 'SNOWFLAKE') authenticated = user.password !== undefined && data['PASSWORD'] === user.password;
      else if (user && authenticator === 'SNOWFLAKE_JWT' && user.publicKey) {
        const claims = verifyJwt(String(data['TOKEN'] ?? ''), user.publicKey);
        authenticated = claims !== undefined && String(claims['sub'] ?? '').toUpperCase() === `${account}.${login}`;
        if (!authenticated) return failure('394304', 'JWT token is invalid.', { nextAction: 'RETRY_LOGIN', authnMethod: 'KEYPAIR' });
      } else if (user && authenticator === 'OAUTH') authenticated = user.oauthToken !== undefined && data['TOKEN'] === user.oauthToken;
      if (!authenticated) {
        if (authenticator === 'OAUTH') return failure('390303', 'Invalid OAuth access token.', { nextAction: 'RETRY_LOGIN', authnMethod: 'OAUTH' });
        return failure('390100', 'Incorrect username or password was specified.', { nextAction: 'RETRY_LOGIN', authnMethod: 'USERNAME_PASSWORD' });
      }
      const params = queryParameters(request);
      const role = (params.get('roleName') || user?.defaultRole || 'ACCOUNTADMIN').replace(/^"(.*)"$/, '$1');
      if (!engine.catalog.roles.has(role.toUpperCase()) && !engine.catalog.roles.has(role))
        return failure('390189', `Role '${role.toUpperCase()}' specified in the connect string does not exist or not authorized. Contact your local system administrator, or attempt to login with another role, e.g. PUBLIC.`);
      const token = randomUUID();
      const database = params.get('databaseName') || null;
      const session: Session = {
        id: nextSession++,
        user: login,
        role: engine.catalog.roles.has(role) ? role : role.toUpperCase(),
        database: database && engine.catalog.databases.has(database.toUpperCase()) ? database.toUpperCase() : database,
        schema: params.get('schemaName')?.toUpperCase() || null,
        warehouse: params.get('warehouse') || null,
      };
      sessions.set(token, session);
      return ok({
        token,
        masterToken: randomUUID(),
        validityInSeconds: 3600,
        masterValidityInSeconds: 14400,
        sessionId: session.id,
        parameters: [{ name: 'TIMEZONE', value: 'UTC' }],
        sessionInfo: { databaseName: session.database, schemaName: session.schema, warehouseName: session.warehouse, roleName: session.role },
      });
    }
    if (request.method === 'POST' && path === '/telemetry/send') return ok({});
    const token = /Snowflake Token="([^"]+)"/.exec(request.headers.authorization ?? '')?.[1];
    const session = token ? sessions.get(token) : undefined;
    if (path.startsWith('/chunks/')) {
      const chunk = chunks.get(path.slice('/chunks/'.length));
      if (chunk === undefined) return { status: 404, body: 'no such chunk' };
      return { status: 200, body: chunk, headers: { 'content-type': 'application/octet-stream' } };
    }
    if (!session) return failure('390104', 'Session no longer exists.  New login required to access the service.');
    if (request.method === 'POST' && path === '/session' && url.searchParams.get('delete') === 'true') {
      if (token) sessions.delete(token);
      return ok({});
    }
    if (request.method === 'POST' && path === '/session/heartbeat') return ok({});
    const resultPath = /^\/queries\/([0-9a-f-]{36})\/result$/.exec(path);
    if (request.method === 'GET' && resultPath) {
      const stored = results.get(resultPath[1] as string);
      if (!stored) return failure('000709', `Statement ${resultPath[1]} not found`);
      return resultBody(resultPath[1] as string, stored.result, stored.session);
    }
    if (request.method === 'POST' && path === '/queries/v1/query-request') {
      const payload = JSON.parse(body.toString('utf8')) as { sqlText: string; bindings?: unknown };
      const queryId = randomUUID();
      if (payload.bindings) return failure('002049', 'SQL compilation error: the emulator does not take bind variables.', { sqlState: '22000', queryId });
      if (emulator.failOnce.delete(payload.sqlText)) return failure('000625', 'Statement reached its statement or warehouse timeout of 1 second(s) and was canceled.', { sqlState: '57014', queryId });
      let result: StatementResult;
      try {
        result = engine.execute(payload.sqlText, session);
      } catch (error) {
        if (error instanceof EngineError) return failure(error.code, error.message, { sqlState: error.sqlState, queryId, errorCode: error.code });
        throw error;
      }
      if (emulator.pollNextQueries > 0) {
        emulator.pollNextQueries--;
        results.set(queryId, { result, session: { ...session } });
        return { status: 200, body: { success: true, code: '333333', message: null, data: { queryId, getResultUrl: `/queries/${queryId}/result` } } };
      }
      return resultBody(queryId, result, session);
    }
    return { status: 404, body: { success: false, code: '000404', message: `no such endpoint ${request.method} ${path}`, data: null } };
  });

  const admin: Session = { id: 0, user: 'SYSTEM', role: 'ACCOUNTADMIN', database: null, schema: null, warehouse: null };
  const emulator: SnowflakeEmulator = {
    ...running,
    account,
    engine,
    users,
    pollNextQueries: 0,
    failOnce: new Set(),
    run: (sql) => engine.execute(sql, admin),
    connection: { account, user: [...users.keys()][0] ?? '', password: [...users.values()][0]?.password ?? '', accessUrl: running.url },
  };
  return emulator;
}
