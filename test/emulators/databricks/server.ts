/**
 * The HiveServer2 Thrift protocol over HTTPS, as the unmodified @databricks/sql client speaks it:
 * one POST per call, TBinaryProtocol in a buffered transport, Bearer token auth (401 otherwise),
 * a certificate made at start for 127.0.0.1. Built on the client package's own generated
 * TCLIService.Processor (loaded with the thrift runtime it uses).
 *
 * Results are column-based and come back as direct results with the operation already closed, so
 * a statement is one ExecuteStatement. A syntax error is the ExecuteStatement's ERROR_STATUS; an
 * error while running (unknown object, principal, tag limits) is an operation in ERROR_STATE, as
 * the HiveServer2 protocol reports failed asynchronous operations. Which of the two a real
 * warehouse uses for which error is UNVERIFIED; a client must handle both.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { EmulatedAccount } from './catalog.js';
import { DatabricksEngine, type ResultSet, type SessionNamespace } from './engine.js';
import { DatabricksSqlError } from './lexer.js';

const require = createRequire(import.meta.url);

interface ThriftTransport {
  new (buffer: Buffer | undefined, onFlush: (buffer: Buffer) => void): unknown;
  receiver(callback: (transport: unknown) => void): (data: Buffer) => void;
}
interface ThriftRuntime {
  TBufferedTransport: ThriftTransport;
  TBinaryProtocol: new (transport: unknown) => unknown;
}
interface ThriftProcessor {
  process(input: unknown, output: unknown): void;
}
type Types = Record<string, Record<string, number>>;

const thrift = require('thrift') as ThriftRuntime;
const service = require('@databricks/sql/thrift/TCLIService.js') as { Processor: new (handler: object) => ThriftProcessor };
const types = require('@databricks/sql/thrift/TCLIService_types.js') as Types;

const STATUS = types['TStatusCode'] as Record<string, number>;
const STATE = types['TOperationState'] as Record<string, number>;
const TYPE_ID = types['TTypeId'] as Record<string, number>;
const ROW_SET = types['TSparkRowSetType'] as Record<string, number>;
const PROTOCOL = types['TProtocolVersion'] as Record<string, number>;

export interface DatabricksEmulatorOptions {
  token?: string;
  path?: string;
  account?: EmulatedAccount;
  /** Fail the next N ExecuteStatement calls with HTTP 503 (a warehouse starting). */
  unavailable?: number;
}

export interface DatabricksEmulator {
  host: string;
  port: number;
  path: string;
  token: string;
  /** PEM of the self-signed certificate (pass as customCaCert). */
  certificate: Buffer;
  account: EmulatedAccount;
  engine: DatabricksEngine;
  /** Statements received, in order (tests check what was sent). */
  log: string[];
  /** Make the next `count` ExecuteStatement calls (whose SQL contains `containing`) answer `status`. */
  failNext(count: number, status?: number, containing?: string): void;
  /** What a user puts under `connection:` in metaform.yaml to reach it. */
  connection: { host: string; port: number; path: string; token: string; caCert: string };
  /** Runs a statement as the workspace, bypassing Thrift (fixtures and checks). */
  run(sql: string): ResultSet | undefined;
  close(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl. */
function makeCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-emulator-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const guid = () => Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
const ok = () => ({ statusCode: STATUS['SUCCESS_STATUS'] });

interface Handle {
  guid: Buffer;
  secret: Buffer;
}

function nullBitmap(values: readonly unknown[]): Buffer {
  const bitmap = Buffer.alloc(Math.ceil(values.length / 8));
  values.forEach((value, i) => {
    if (value === null) bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
  });
  return bitmap;
}

function columnBased(result: ResultSet): { metadata: object; rowSet: object } {
  const columns = result.columns.map((column, at) => {
    const values = result.rows.map((row) => row[at] ?? null);
    const nulls = nullBitmap(values);
    return column.type === 'INT'
      ? { i32Val: { values: values.map((value) => (value === null ? 0 : Number(value))), nulls } }
      : { stringVal: { values: values.map((value) => (value === null ? '' : String(value))), nulls } };
  });
  const schema = {
    columns: result.columns.map((column, position) => ({
      columnName: column.name,
      typeDesc: { types: [{ primitiveEntry: { type: column.type === 'INT' ? TYPE_ID['INT_TYPE'] : TYPE_ID['STRING_TYPE'] } }] },
      position: position + 1,
    })),
  };
  return {
    metadata: { status: ok(), schema, resultFormat: ROW_SET['COLUMN_BASED_SET'], lz4Compressed: false, isStagingOperation: false },
    rowSet: { status: ok(), hasMoreRows: false, results: { startRowOffset: 0, rows: [], columns } },
  };
}

export async function startDatabricksEmulator(options: DatabricksEmulatorOptions = {}): Promise<DatabricksEmulator> {
  const token = options.token ?? 'dapi-emulator-token';
  const path = options.path ?? '/sql/1.0/warehouses/emulated';
  const account = options.account ?? new EmulatedAccount();
  const engine = new DatabricksEngine(account);
  const log: string[] = [];
  const sessions = new Map<string, SessionNamespace>();
  let failures = { count: options.unavailable ?? 0, status: 503, containing: '' };

  const handler = {
    OpenSession(request: { initialNamespace?: { catalogName?: string; schemaName?: string } }) {
      const handle: Handle = { guid: guid(), secret: guid() };
      sessions.set(handle.guid.toString('hex'), {
        catalog: request.initialNamespace?.catalogName ?? 'hive_metastore',
        schema: request.initialNamespace?.schemaName ?? 'default',
      });
      return { status: ok(), serverProtocolVersion: PROTOCOL['SPARK_CLI_SERVICE_PROTOCOL_V8'], sessionHandle: { sessionId: handle }, canUseMultipleCatalogs: true };
    },
    CloseSession(request: { sessionHandle: { sessionId: Handle } }) {
      sessions.delete(Buffer.from(request.sessionHandle.sessionId.guid).toString('hex'));
      return { status: ok() };
    },
    ExecuteStatement(request: { sessionHandle: { sessionId: Handle }; statement: string }) {
      const namespace = sessions.get(Buffer.from(request.sessionHandle.sessionId.guid).toString('hex'));
      if (!namespace) return { status: { statusCode: STATUS['INVALID_HANDLE_STATUS'], errorMessage: 'Invalid SessionHandle' } };
      log.push(request.statement);
      let statement;
      try {
        statement = engine.parse(request.statement);
      } catch (error) {
        if (!(error instanceof DatabricksSqlError)) throw error;
        return { status: { statusCode: STATUS['ERROR_STATUS'], sqlState: error.sqlState, errorMessage: error.message, displayMessage: error.message, infoMessages: [] } };
      }
      const operationId: Handle = { guid: guid(), secret: guid() };
      let result: ResultSet | undefined;
      try {
        engine.statements++;
        result = engine.execute(statement, namespace);
      } catch (error) {
        if (!(error instanceof DatabricksSqlError)) throw error;
        return {
          status: ok(),
          operationHandle: { operationId, operationType: 0, hasResultSet: false },
          directResults: {
            operationStatus: { status: ok(), operationState: STATE['ERROR_STATE'], sqlState: error.sqlState, errorCode: 0, errorMessage: error.message, displayMessage: error.message },
            closeOperation: { status: ok() },
          },
        };
      }
      const finished = { status: ok(), operationState: STATE['FINISHED_STATE'], hasResultSet: result !== undefined };
      // DDL: no result set, but metadata all the same, or the client asks for it on a closed operation.
      const { metadata, rowSet } = columnBased(result ?? { columns: [], rows: [] });
      return {
        status: ok(),
        operationHandle: { operationId, operationType: 0, hasResultSet: result !== undefined },
        directResults: { operationStatus: finished, resultSetMetadata: metadata, ...(result ? { resultSet: rowSet } : {}), closeOperation: { status: ok() } },
      };
    },
    GetOperationStatus() {
      return { status: ok(), operationState: STATE['FINISHED_STATE'] };
    },
    CloseOperation() {
      return { status: ok() };
    },
    CancelOperation() {
      return { status: ok() };
    },
    GetResultSetMetadata() {
      // Every result went out with its metadata as direct results; the operation is closed.
      return { status: { statusCode: STATUS['INVALID_HANDLE_STATUS'], errorMessage: 'Invalid OperationHandle', infoMessages: [] } };
    },
    FetchResults() {
      return { status: ok(), hasMoreRows: false, results: { startRowOffset: 0, rows: [], columns: [] } };
    },
  };
  // Calls the emulator does not serve (GetCatalogs, GetTables ... metadata RPCs, delegation
  // tokens) answer an error status instead of crashing the Processor on a missing handler.
  const notEmulated = (name: string) => (_request: unknown) => ({
    status: { statusCode: STATUS['ERROR_STATUS'], errorMessage: `${name} is not served by the Databricks emulator`, infoMessages: [] },
  });
  const processor = new service.Processor(
    new Proxy(handler, { get: (target, name) => (target as Record<string | symbol, unknown>)[name] ?? notEmulated(String(name)) }),
  );

  const { key, cert } = makeCertificate();
  const server: Server = createServer({ key, cert }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== path) {
        response.writeHead(404).end();
        return;
      }
      if (request.headers.authorization !== `Bearer ${token}`) {
        response.writeHead(401).end();
        return;
      }
      const body = Buffer.concat(chunks);
      // The call's name sits after the 4-byte version and the 4-byte name length.
      const callName = body.length > 8 ? body.subarray(8, 8 + body.readUInt32BE(4)).toString() : '';
      if (failures.count > 0 && callName === 'ExecuteStatement' && body.includes(failures.containing)) {
        failures.count--;
        response.writeHead(failures.status).end();
        return;
      }
      thrift.TBufferedTransport.receiver((transport) => {
        const input = new thrift.TBinaryProtocol(transport);
        const output = new thrift.TBinaryProtocol(
          new thrift.TBufferedTransport(undefined, (buffer) => {
            response.writeHead(200, { 'content-type': 'application/x-thrift' }).end(buffer);
          }),
        );
        processor.process(input, output);
      })(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    path,
    token,
    certificate: cert,
    account,
    engine,
    log,
    failNext(count, status = 503, containing = '') {
      failures = { count, status, containing };
    },
    connection: { host: '127.0.0.1', port, path, token, caCert: cert.toString() },
    run: (sql) => engine.run(sql, { catalog: 'main', schema: 'default' }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
