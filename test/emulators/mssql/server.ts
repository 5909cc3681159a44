/**
 * A SQL Server over TDS 7.4 on 127.0.0.1 for the unmodified mssql/tedious client: PRELOGIN with
 * encryption off (TLS is not modelled), LOGIN7 with SQL authentication (error 18456 otherwise),
 * SQL batches, RPC (sp_executesql and procedures by name), transaction manager requests and
 * ATTENTION. Reply layouts follow [MS-TDS] 2.2.7 (see tds.ts) and ../../../shared reference §3.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Relation } from '../kit/select.js';
import { SqlServerEngine, type Event, type Session } from './engine.js';
import { SqlServerError } from './lexer.js';
import {
  CMD_SELECT,
  DEFAULT_COLLATION,
  DONE,
  ENV,
  framePackets,
  MessageReader,
  PACKET,
  parseLogin7,
  parseRpc,
  preloginReply,
  splitAllHeaders,
  TM,
  TokenWriter,
  type ParamValue,
} from './tds.js';

export interface MssqlEmulatorOptions {
  /** The database the connection opens (created with the service login as a user). */
  database?: string;
  /** Its collation (default SQL_Latin1_General_CP1_CI_AS, case-insensitive). */
  collation?: string;
  /** The login tests connect as: an ordinary user of the database, with no permissions granted. */
  user?: string;
  password?: string;
}

export interface MssqlEmulator {
  /** What a user writes under `connection:` in metaform.yaml. */
  connection: { server: string; port: number; user: string; password: string; database: string; options: { encrypt: boolean; trustServerCertificate: boolean } };
  engine: SqlServerEngine;
  /** Runs a batch as sa in `database` (default: the emulator's); returns its last result set. */
  run(sql: string, database?: string): Relation;
  /** Every batch and RPC statement text received from clients, in order. */
  statements: string[];
  /** Called before each client batch runs; returning 'drop' closes the connection instead. */
  beforeBatch?: (sql: string) => 'drop' | void;
  /** Closes every client connection (their sessions end: transactions roll back, locks go). */
  dropConnections(): void;
  close(): Promise<void>;
}

const SERVER_NAME = 'tds-emu';

export async function startMssqlEmulator(options: MssqlEmulatorOptions = {}): Promise<MssqlEmulator> {
  const databaseName = options.database ?? 'test';
  const user = options.user ?? 'metaform_svc';
  const password = options.password ?? 'Svc-Passw0rd';
  const engine = new SqlServerEngine(SERVER_NAME);
  engine.createLogin(user, password);
  engine.createDatabase(databaseName, options.collation ?? 'SQL_Latin1_General_CP1_CI_AS', 'sa');
  let nextSpid = 51;
  const sockets = new Set<Socket>();
  const admin = (database: string): Session => ({
    spid: nextSpid++,
    login: engine.login('sa') as Session['login'],
    database,
    xactAbort: false,
    descriptor: Buffer.alloc(8),
  });
  const emulator: MssqlEmulator = {
    connection: { server: '127.0.0.1', port: 0, user, password, database: databaseName, options: { encrypt: false, trustServerCertificate: true } },
    engine,
    statements: [],
    run(sql, database = databaseName) {
      const session = admin(database);
      const events = engine.executeBatch(session, sql);
      engine.endSession(session);
      const error = events.find((event): event is Extract<Event, { kind: 'error' }> => event.kind === 'error');
      if (error) throw error.error;
      const rows = events.filter((event): event is Extract<Event, { kind: 'rows' }> => event.kind === 'rows').pop();
      return rows ? { columns: rows.columns.map((column) => column.name), rows: rows.rows } : { columns: [], rows: [] };
    },
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        emulator.dropConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
  emulator.run(`CREATE USER [${user.replaceAll(']', ']]')}] FOR LOGIN [${user.replaceAll(']', ']]')}]`);
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const connection = new ClientConnection(socket, engine, emulator, () => nextSpid++);
    socket.on('close', () => {
      sockets.delete(socket);
      connection.end();
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  emulator.connection.port = (server.address() as AddressInfo).port;
  return emulator;
}

class ClientConnection {
  private readonly reader = new MessageReader();
  private session: Session | undefined;
  private packetSize = 4096;
  private nextDescriptor = 1;

  constructor(
    private readonly socket: Socket,
    private readonly engine: SqlServerEngine,
    private readonly emulator: MssqlEmulator,
    private readonly spid: () => number,
  ) {
    socket.on('data', (chunk) => {
      try {
        for (const message of this.reader.push(chunk)) this.handle(message.type, message.payload);
      } catch {
        socket.destroy();
      }
    });
  }

  end(): void {
    if (this.session) this.engine.endSession(this.session);
    this.session = undefined;
  }

  private send(writer: TokenWriter): void {
    if (!this.socket.destroyed) this.socket.write(framePackets(PACKET.REPLY, writer.toBuffer(), this.packetSize));
  }

  private handle(type: number, payload: Buffer): void {
    if (type === PACKET.PRELOGIN) {
      // Encryption NOT_SUP (0x02): tedious with encrypt:false goes on in the clear (reference §3.1).
      if (!this.socket.destroyed) this.socket.write(framePackets(PACKET.REPLY, preloginReply(0x02)));
      return;
    }
    if (type === PACKET.LOGIN7) return this.login(payload);
    const session = this.session;
    if (!session) return void this.socket.destroy();
    if (type === PACKET.ATTENTION) {
      const writer = new TokenWriter();
      writer.done('done', DONE.ATTN);
      return this.send(writer);
    }
    const { body } = splitAllHeaders(payload);
    if (type === PACKET.SQL_BATCH) {
      const sql = body.toString('utf16le');
      this.emulator.statements.push(sql);
      if (this.emulator.beforeBatch?.(sql) === 'drop') return void this.socket.destroy();
      const writer = new TokenWriter();
      this.reply(writer, this.engine.executeBatch(session, sql), 'done');
      writer.done('done', session.transaction ? DONE.INXACT : DONE.FINAL);
      return this.send(writer);
    }
    if (type === PACKET.RPC) return this.rpc(session, body);
    if (type === PACKET.TRANSACTION_MANAGER) return this.transactionManager(session, body);
    this.socket.destroy();
  }

  private login(payload: Buffer): void {
    const login = parseLogin7(payload);
    const writer = new TokenWriter();
    const account = this.engine.login(login.user);
    const database = this.engine.database(login.database || 'master');
    // 18456 severity 14: "Login failed for user '%.*ls'." (the reason stays in the server log).
    if (!account || account.password !== login.password || !database || this.engine.userOf(database, account) === undefined) {
      writer.message('error', 18456, 1, 14, `Login failed for user '${login.user}'.`, SERVER_NAME);
      writer.done('done', DONE.ERROR);
      this.send(writer);
      return;
    }
    this.packetSize = login.packetSize || 4096;
    this.session = { spid: this.spid(), login: account, database: database.name, xactAbort: false, descriptor: Buffer.alloc(8) };
    writer.envchangeText(ENV.DATABASE, database.name, 'master');
    writer.message('info', 5701, 2, 0, `Changed database context to '${database.name}'.`, SERVER_NAME);
    writer.envchangeBytes(ENV.COLLATION, DEFAULT_COLLATION, Buffer.alloc(0));
    writer.envchangeText(ENV.LANGUAGE, 'us_english', '');
    writer.message('info', 5703, 1, 0, 'Changed language setting to us_english.', SERVER_NAME);
    writer.loginAck('Microsoft SQL Server');
    writer.envchangeText(ENV.PACKET_SIZE, String(this.packetSize), String(this.packetSize));
    writer.done('done', DONE.FINAL);
    this.send(writer);
  }

  private newDescriptor(session: Session): void {
    session.descriptor = Buffer.alloc(8);
    session.descriptor.writeUInt32LE(this.nextDescriptor++, 0);
  }

  /** Writes a statement's events; `done` is DONE in a batch, DONEINPROC inside a procedure. */
  private reply(writer: TokenWriter, events: Event[], done: 'done' | 'inproc'): boolean {
    let failed = false;
    for (const event of events) {
      switch (event.kind) {
        case 'rows':
          writer.columns(event.columns);
          for (const row of event.rows) writer.row(event.columns.map((column) => column.type), row);
          writer.done(done, DONE.MORE | DONE.COUNT, CMD_SELECT, event.rows.length);
          break;
        case 'done':
          writer.done(done, DONE.MORE);
          break;
        case 'proc':
          writer.returnStatus(event.status);
          writer.done('proc', DONE.MORE);
          break;
        case 'error':
          failed = true;
          writer.message('error', event.error.number, event.error.state, event.error.severity, event.error.message, SERVER_NAME);
          writer.done(done, DONE.MORE | DONE.ERROR);
          break;
        case 'begin':
          this.newDescriptor(this.session as Session);
          writer.envchangeBytes(ENV.BEGIN_TRAN, (this.session as Session).descriptor, Buffer.alloc(0));
          break;
        case 'commit':
          writer.envchangeBytes(ENV.COMMIT_TRAN, Buffer.alloc(0), event.descriptor);
          break;
        case 'rollback':
          writer.envchangeBytes(ENV.ROLLBACK_TRAN, Buffer.alloc(0), event.descriptor);
          break;
        case 'database':
          writer.envchangeText(ENV.DATABASE, event.next, event.previous);
          break;
      }
    }
    return failed;
  }

  private rpc(session: Session, body: Buffer): void {
    const writer = new TokenWriter();
    let status = 0;
    let failed = false;
    try {
      const call = parseRpc(body);
      const params = new Map<string, ParamValue>();
      for (const parameter of call.parameters) params.set(parameter.name, parameter.value);
      if (call.procedure === 'sp_executesql') {
        const [statement, , ...inputs] = call.parameters;
        const sql = String(statement?.value ?? '');
        this.emulator.statements.push(sql);
        if (this.emulator.beforeBatch?.(sql) === 'drop') return void this.socket.destroy();
        const bound = new Map<string, ParamValue>();
        for (const input of call.parameters.length > 1 && call.parameters[1]?.name === '@params' ? inputs : call.parameters.slice(1)) bound.set(input.name, input.value);
        failed = this.reply(writer, this.engine.executeBatch(session, sql, bound), 'inproc');
      } else {
        this.emulator.statements.push(`EXEC ${call.procedure}`);
        if (this.emulator.beforeBatch?.(`EXEC ${call.procedure}`) === 'drop') return void this.socket.destroy();
        status = this.engine.executeProcedure(session, call.procedure, params);
      }
    } catch (error) {
      failed = true;
      const sqlError = error instanceof SqlServerError ? error : new SqlServerError(50000, `tds-emu: ${String(error)}`);
      writer.message('error', sqlError.number, sqlError.state, sqlError.severity, sqlError.message, SERVER_NAME);
    }
    writer.returnStatus(failed ? -6 : status);
    writer.done('proc', failed ? DONE.ERROR : DONE.FINAL);
    this.send(writer);
  }

  /** 2.2.6.9: begin, commit and rollback as tedious's Transaction object sends them. */
  private transactionManager(session: Session, body: Buffer): void {
    const request = body.readUInt16LE(0);
    const writer = new TokenWriter();
    const sql = request === TM.BEGIN ? 'BEGIN TRANSACTION' : request === TM.COMMIT ? 'COMMIT TRANSACTION' : request === TM.ROLLBACK ? 'ROLLBACK TRANSACTION' : '';
    if (!sql) return void this.socket.destroy();
    const events = this.engine.executeBatch(session, sql).filter((event) => event.kind !== 'done');
    this.reply(writer, events, 'done');
    writer.done('done', DONE.FINAL);
    this.send(writer);
  }
}
