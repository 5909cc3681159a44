/**
 * An Oracle Database as node-oracledb's thin mode reaches it over Oracle Net on 127.0.0.1:
 * CONNECT/ACCEPT (no native network encryption), protocol and data-type negotiation, O5LOGON
 * with the 12c verifier, then EXECUTE / FETCH / COMMIT / ROLLBACK / PING / LOGOFF. The message
 * layouts follow shared/reference/emulators.md §4 and the field order node-oracledb's
 * lib/thin/protocol/messages/*.js reads; the emulator poses as 19c (TTC field version 12), so no
 * 23ai fields are sent. What the server answers comes from engine.ts.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Relation, Value } from '../kit/select.js';
import { EngineError } from '../kit/tokens.js';
import { O5Logon } from './auth.js';
import { ADMIN, OracleEngine } from './engine.js';
import { oraError } from './lexer.js';
import { DATA_FLAG, PACKET, PacketSplitter, TtcReader, TtcWriter, dataPackets, tnsPacket } from './wire.js';

/** The node-oracledb version whose message layouts this emulator was checked against. */
export const ORACLEDB_VERSION = '26.0.0';

const TNS_VERSION = 319;
const SDU = 8192;
const FIELD_VERSION = 12; // TNS_CCAP_FIELD_VERSION_19_1
const MSG = { PROTOCOL: 1, DATA_TYPES: 2, FUNCTION: 3, ERROR: 4, ROW_HEADER: 6, ROW_DATA: 7, PARAMETER: 8, STATUS: 9, DESCRIBE_INFO: 16, PIGGYBACK: 17 } as const;
const FUNC = { AUTH_ONE: 118, AUTH_TWO: 115, EXECUTE: 94, FETCH: 5, COMMIT: 14, ROLLBACK: 15, PING: 147, LOGOFF: 9, REEXECUTE: 4, REEXECUTE_FETCH: 78, CLOSE_CURSORS: 105, CANCEL_CURSORS: 120 } as const;
const EXEC = { PARSE: 0x01, BIND: 0x08, DEFINE: 0x10, EXECUTE: 0x20, FETCH: 0x40 } as const;
const TYPE = { VARCHAR: 1, NUMBER: 2 } as const;
/** 19.3.0.0.0 in AUTH_VERSION_NO's layout for field versions >= 18.1 ext 1 (connection.js _postConnect). */
const VERSION_NO = (19 << 24) | (3 << 16);
const NO_DATA_FOUND = 1403;

export interface OracleEmulatorOptions {
  /** The service name the listener knows (others are refused with ORA-12514). */
  serviceName?: string;
  /** Users to create, by name (upper case as Oracle stores unquoted names), with passwords. */
  users?: Record<string, string>;
}

export interface OracleEmulator {
  /** What a user puts under `connection:` for the first user of `options.users`. */
  connection: { connectString: string; user: string; password: string };
  host: string;
  port: number;
  engine: OracleEngine;
  /** Runs a statement as the administrator (SYSTEM), for fixtures and checks. */
  run(sql: string): void;
  /** Drops every open connection, as a server restart or a network cut would. */
  dropConnections(): void;
  close(): Promise<void>;
}

interface Cursor {
  sql: string;
  relation?: Relation;
  /** The relation's column types, decided once (every FETCH reuses them). */
  columnTypes?: number[];
  position: number;
  bindCount: number;
  types: number[];
}

export async function startOracleEmulator(options: OracleEmulatorOptions = {}): Promise<OracleEmulator> {
  const serviceName = options.serviceName ?? 'FREEPDB1';
  const engine = new OracleEngine();
  const users = options.users ?? { METAFORM: 'secret' };
  for (const [name, password] of Object.entries(users)) engine.execute(ADMIN, `CREATE USER "${name}" IDENTIFIED BY "${password}"`);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    new Session(socket, engine, serviceName);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const [user = 'METAFORM', password = 'secret'] = Object.entries(users)[0] ?? [];
  return {
    connection: { connectString: `127.0.0.1:${port}/${serviceName}`, user, password },
    host: '127.0.0.1',
    port,
    engine,
    run: (sql) => void engine.execute(ADMIN, sql),
    dropConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

class Session {
  private readonly splitter = new PacketSplitter();
  private request: Buffer[] = [];
  private connectData = '';
  private awaitingConnectData = 0;
  private user: string | undefined;
  private logon: O5Logon | undefined;
  private candidate = '';
  private readonly cursors = new Map<number, Cursor>();
  private nextCursor = 1;
  private sequence = 0;

  constructor(
    private readonly socket: Socket,
    private readonly engine: OracleEngine,
    private readonly serviceName: string,
  ) {
    socket.on('data', (data: Buffer) => {
      try {
        for (const packet of this.splitter.push(data)) this.packet(packet);
      } catch (error) {
        // A message the emulator does not understand: fail loudly rather than leave the client waiting.
        process.stderr.write(`oracle emulator: ${(error as Error).stack ?? String(error)}\n`);
        socket.destroy();
      }
    });
  }

  private packet({ type, body }: { type: number; flags: number; body: Buffer }): void {
    if (type === PACKET.CONNECT) {
      const length = body.readUInt16BE(24 - 8);
      const offset = body.readUInt16BE(26 - 8);
      if (offset - 8 + length <= body.length) this.connect(body.subarray(offset - 8, offset - 8 + length).toString('ascii'));
      else this.awaitingConnectData = length;
      return;
    }
    if (type !== PACKET.DATA) throw new Error(`TNS: unexpected packet type ${type}`);
    const flags = body.readUInt16BE(0);
    const payload = body.subarray(2);
    if (this.awaitingConnectData) {
      this.connectData += payload.toString('ascii');
      if (this.connectData.length >= this.awaitingConnectData) {
        this.awaitingConnectData = 0;
        this.connect(this.connectData);
      }
      return;
    }
    if (flags & DATA_FLAG.EOF) {
      this.socket.end();
      return;
    }
    this.request.push(payload);
    // The client marks the last packet of every request (protocol/packet.js _sendPacket).
    if (!(flags & DATA_FLAG.END_OF_REQUEST)) return;
    const reader = new TtcReader(Buffer.concat(this.request));
    this.request = [];
    this.reply(this.message(reader));
  }

  /** The listener: a known service is ACCEPTed, any other REFUSEd as ORA-12514 is. */
  private connect(descriptor: string): void {
    const service = /\(SERVICE_NAME=([^)]*)\)/i.exec(descriptor)?.[1];
    if (service?.toUpperCase() !== this.serviceName.toUpperCase()) {
      const text = Buffer.from('(DESCRIPTION=(TMP=)(VSNNUM=0)(ERR=12514)(ERROR_STACK=(ERROR=(CODE=12514)(EMFI=4))))', 'ascii');
      const body = Buffer.alloc(4 + text.length);
      body.writeUInt16BE(text.length, 2);
      text.copy(body, 4);
      this.socket.end(tnsPacket(PACKET.REFUSE, body, false));
      return;
    }
    // ACCEPT for 3.19 (sqlnet/packet.js AcceptPacket): version, options, SDU/TDU (16 and 32 bits),
    // flags1 0x08 "no NA services" so the client skips the ANO exchange; flags2 0.
    const body = Buffer.alloc(45 - 8);
    body.writeUInt16BE(TNS_VERSION, 0);
    body.writeUInt16BE(0x0001, 2);
    body.writeUInt16BE(SDU, 4);
    body.writeUInt16BE(0xffff, 6);
    body.writeUInt16BE(1, 8);
    body.writeUInt16BE(0, 10);
    body.writeUInt16BE(45, 12);
    body[14] = 0x04;
    body[15] = 0x08;
    body.writeUInt32BE(SDU, 32 - 8);
    body.writeUInt32BE(2097152, 36 - 8);
    this.socket.write(tnsPacket(PACKET.ACCEPT, body, false));
    this.splitter.largeLength = true;
  }

  private reply(payload: Buffer | undefined): void {
    if (payload === undefined) return;
    // One write per reply: packets written one by one wait on Nagle's algorithm and the
    // client's delayed ACK (40 ms a round trip); the listener sets TCP_NODELAY as well.
    this.socket.write(Buffer.concat(dataPackets(payload, SDU)));
  }

  private message(reader: TtcReader): Buffer | undefined {
    const type = reader.u8();
    if (type === MSG.PROTOCOL) return this.protocol();
    if (type === MSG.DATA_TYPES) return this.dataTypes();
    let messageType = type;
    // Piggybacks (closed cursors) come ahead of the call they ride on.
    while (messageType === MSG.PIGGYBACK) {
      const piggyback = reader.u8();
      reader.u8(); // sequence
      if (piggyback !== FUNC.CLOSE_CURSORS && piggyback !== FUNC.CANCEL_CURSORS) throw new Error(`TTC: piggyback ${piggyback} not emulated`);
      reader.u8(); // pointer
      const count = reader.ub4();
      for (let i = 0; i < count; i++) {
        const id = reader.ub4();
        if (piggyback === FUNC.CLOSE_CURSORS) this.cursors.delete(id);
      }
      messageType = reader.u8();
    }
    if (messageType !== MSG.FUNCTION) throw new Error(`TTC: message type ${messageType} not emulated`);
    const functionCode = reader.u8();
    this.sequence = reader.u8();
    switch (functionCode) {
      case FUNC.AUTH_ONE:
        return this.authPhaseOne(reader);
      case FUNC.AUTH_TWO:
        return this.authPhaseTwo(reader);
      case FUNC.EXECUTE:
        return this.guarded(() => this.execute(reader));
      case FUNC.REEXECUTE:
      case FUNC.REEXECUTE_FETCH:
        return this.guarded(() => this.reexecute(reader, functionCode === FUNC.REEXECUTE_FETCH));
      case FUNC.FETCH: {
        const cursorId = reader.ub4();
        const rows = reader.ub4();
        const cursor = this.cursors.get(cursorId);
        if (!cursor) return this.endOfCall(0, oraError(1001, 'invalid cursor'));
        return this.rows(cursorId, cursor, rows, false);
      }
      case FUNC.COMMIT:
      case FUNC.ROLLBACK:
      case FUNC.PING:
        return this.status();
      case FUNC.LOGOFF:
        this.user = undefined;
        return this.status();
      default:
        return this.endOfCall(0, oraError(3115, `unsupported network datatype or representation (function ${functionCode})`));
    }
  }

  private guarded(work: () => Buffer): Buffer {
    if (!this.user) return this.endOfCall(0, oraError(1012, 'not logged on'));
    try {
      return work();
    } catch (error) {
      if (error instanceof EngineError) return this.endOfCall(0, error);
      throw error;
    }
  }

  /** PROTOCOL answer (messages/protocol.js processProtocolInfo). */
  private protocol(): Buffer {
    const w = new TtcWriter().u8(MSG.PROTOCOL).u8(6).u8(0).raw(Buffer.from('Oracle Emulator 19c\0', 'ascii'));
    w.u16le(873).u8(0).u16le(0);
    // FDO: the client reads the national character set at fdo[6 + fdo[5] + fdo[6] + 3 ..+4]: AL16UTF16 (2000).
    const fdo = Buffer.alloc(16);
    fdo[5] = 0;
    fdo[6] = 0;
    fdo.writeUInt16BE(2000, 9);
    w.u16be(fdo.length).raw(fdo);
    const compileCaps = Buffer.alloc(53);
    compileCaps[7] = FIELD_VERSION;
    w.bytesWithLength(compileCaps);
    const runtimeCaps = Buffer.alloc(7);
    runtimeCaps[1] = 0x01; // TZ_EX: the database time zone comes with the data types
    // runtimeCaps[6] 0x04 (TTC_32K) stays off: MAX_STRING_SIZE = STANDARD, strings up to 4000 bytes.
    return w.bytesWithLength(runtimeCaps).toBuffer();
  }

  /** DATA_TYPES answer: the 11-byte database time zone (UTC), then an empty list (accepted). */
  private dataTypes(): Buffer {
    const zone = Buffer.alloc(11);
    zone.writeUInt32BE(0x80000000, 0);
    zone[4] = 60;
    zone[5] = 60;
    zone[6] = 0x80;
    return new TtcWriter().u8(MSG.DATA_TYPES).raw(zone).u16be(0).toBuffer();
  }

  private parameters(pairs: [string, string, number][]): TtcWriter {
    const w = new TtcWriter().u8(MSG.PARAMETER).int(pairs.length);
    for (const [key, value, flag] of pairs) {
      w.int(Buffer.byteLength(key)).str(key).int(Buffer.byteLength(value));
      if (value) w.str(value);
      w.int(flag);
    }
    return w;
  }

  private statusMessage(w: TtcWriter): TtcWriter {
    return w.u8(MSG.STATUS).int(0).int(this.sequence);
  }

  private status(): Buffer {
    return this.statusMessage(new TtcWriter()).toBuffer();
  }

  private authHeader(reader: TtcReader): { user: string; pairs: Map<string, string> } {
    reader.u8(); // user pointer
    const userLength = reader.ub4();
    reader.ub4(); // auth mode
    reader.u8();
    const count = reader.ub4();
    reader.u8();
    reader.u8();
    const user = userLength > 0 ? (reader.bytesWithLength() ?? Buffer.alloc(0)).toString('utf8') : '';
    const pairs = new Map<string, string>();
    for (let i = 0; i < count; i++) {
      const { key, value } = reader.keyValue();
      pairs.set(key, value);
    }
    return { user, pairs };
  }

  /**
   * Phase one: the server's key half and the verifier's salt. An unknown user gets a verifier
   * for a random password, so that the answer does not tell who exists; phase two then fails
   * with ORA-01017 as for a wrong password.
   */
  private authPhaseOne(reader: TtcReader): Buffer {
    const { user } = this.authHeader(reader);
    // A user name is an identifier: unquoted, it is upper case (as SQL*Plus and the drivers send it).
    const known = this.engine.users.get(user) ?? this.engine.users.get(user.toUpperCase());
    this.candidate = known?.name ?? user;
    this.logon = new O5Logon(known?.verifier ?? { salt: randomBytes(16), speedyKey: randomBytes(64), passwordHash: randomBytes(32) });
    return this.statusMessage(this.parameters(this.logon.phaseOne())).toBuffer();
  }

  private authPhaseTwo(reader: TtcReader): Buffer {
    const { pairs } = this.authHeader(reader);
    const response =
      this.logon && this.engine.users.has(this.candidate)
        ? this.logon.phaseTwo(pairs.get('AUTH_SESSKEY') ?? '', pairs.get('AUTH_PASSWORD') ?? '', pairs.get('AUTH_PBKDF2_SPEEDY_KEY'))
        : undefined;
    if (!response) return this.endOfCall(0, oraError(1017, 'invalid credential or not authorized; logon denied'));
    this.user = this.candidate;
    return this.statusMessage(
      this.parameters([
        ['AUTH_SVR_RESPONSE', response, 0],
        ['AUTH_VERSION_NO', String(VERSION_NO), 0],
        ['AUTH_SC_SERVICE_NAME', this.serviceName, 0],
        ['AUTH_DBNAME', this.serviceName, 0],
        ['AUTH_MAX_IDEN_LENGTH', '128', 0],
        ['AUTH_SESSION_ID', '1', 0],
        ['AUTH_SERIAL_NUM', '1', 0],
      ]),
    ).toBuffer();
  }

  /** OALL8 (messages/execute.js writeExecuteMessage), as written at field version 12. */
  private execute(reader: TtcReader): Buffer {
    const options = reader.ub4();
    let cursorId = reader.ub4();
    const hasSql = reader.u8() === 1;
    reader.ub4(); // SQL length
    reader.u8();
    reader.ub4(); // al8i4 length (13)
    reader.u8();
    reader.u8();
    reader.u8();
    const prefetch = reader.ub4();
    reader.ub4(); // max long size
    reader.u8();
    const bindCount = reader.ub4();
    for (let i = 0; i < 5; i++) reader.u8();
    reader.u8();
    const defineCount = reader.ub4();
    if (defineCount > 0 || options & EXEC.DEFINE) throw oraError(3115, 'define of query columns is not emulated');
    reader.ub4(); // registration id (lsb)
    reader.u8();
    reader.u8();
    reader.u8();
    reader.ub4();
    reader.u8();
    reader.ub4();
    reader.ub4(); // registration id (msb)
    reader.u8();
    reader.ub4();
    reader.u8();
    // field version >= 12.2 and 12.2 ext 1
    reader.u8();
    reader.ub4();
    reader.u8();
    reader.ub4();
    reader.u8();
    reader.u8();
    reader.ub4();
    let sql: string | undefined;
    if (hasSql) sql = (reader.bytesWithLength() ?? Buffer.alloc(0)).toString('utf8');
    for (let i = 0; i < 13; i++) reader.ub4(); // al8i4
    const types: number[] = [];
    for (let i = 0; i < bindCount; i++) {
      types.push(reader.u8());
      reader.u8();
      reader.u8();
      reader.u8();
      reader.ub4(); // max size
      reader.ub4();
      reader.ub4();
      if (reader.ub4() > 0) throw oraError(3115, 'object binds are not emulated');
      reader.ub2();
      reader.ub2(); // charset
      reader.u8(); // csfrm
      reader.ub4();
      reader.ub4(); // oaccolid (12.2+)
    }
    const binds = bindCount > 0 ? this.bindRow(reader, types) : [];
    if (sql === undefined) {
      const cached = this.cursors.get(cursorId);
      if (!cached) throw oraError(1001, 'invalid cursor');
      sql = cached.sql;
    }
    if (cursorId === 0) cursorId = this.nextCursor++;
    const result = this.engine.execute(this.user as string, sql, binds);
    const cursor: Cursor = { sql, position: 0, bindCount, types, ...(result.kind === 'query' ? { relation: result.relation } : {}) };
    this.cursors.set(cursorId, cursor);
    if (result.kind === 'done') return this.endOfCall(cursorId, undefined, result.rowCount);
    const w = this.describe(result.relation);
    return Buffer.concat([w.toBuffer(), options & EXEC.FETCH ? this.rows(cursorId, cursor, prefetch, true) : this.endOfCall(cursorId)]);
  }

  /** Statement-cache re-execution: the cursor's SQL again, with new binds. */
  private reexecute(reader: TtcReader, fetch: boolean): Buffer {
    const cursorId = reader.ub4();
    const count = reader.ub4();
    reader.ub4();
    reader.ub4();
    const cursor = this.cursors.get(cursorId);
    if (!cursor) throw oraError(1001, 'invalid cursor');
    const binds = cursor.bindCount > 0 ? this.bindRow(reader, cursor.types) : [];
    const result = this.engine.execute(this.user as string, cursor.sql, binds);
    cursor.position = 0;
    if (result.kind === 'done') return this.endOfCall(cursorId, undefined, result.rowCount);
    cursor.relation = result.relation;
    delete cursor.columnTypes;
    return fetch ? this.rows(cursorId, cursor, count, true) : this.endOfCall(cursorId);
  }

  private bindRow(reader: TtcReader, types: readonly number[]): (string | null)[] {
    if (reader.u8() !== MSG.ROW_DATA) throw new Error('TTC: bind values expected');
    return types.map((type) => {
      if (type !== TYPE.VARCHAR && type !== 96) throw oraError(3115, `binds of type ${type} are not emulated`);
      const value = reader.bytesWithLength();
      return value === null ? null : value.toString('utf8');
    });
  }

  private columnTypes(relation: Relation): number[] {
    return relation.columns.map((_, index) => (relation.rows.some((row) => typeof row[index] === 'number') ? TYPE.NUMBER : TYPE.VARCHAR));
  }

  /** DESCRIBE_INFO (base.js processColumnInfo at field version 12). */
  private describe(relation: Relation): TtcWriter {
    const types = this.columnTypes(relation);
    const w = new TtcWriter().u8(MSG.DESCRIBE_INFO).u8(0).int(4000 * relation.columns.length).int(relation.columns.length);
    if (relation.columns.length > 0) w.u8(0);
    relation.columns.forEach((name, index) => {
      const number = types[index] === TYPE.NUMBER;
      w.u8(number ? TYPE.NUMBER : TYPE.VARCHAR).u8(0).u8(0).u8(0);
      w.int(number ? 22 : 4000).int(0).int(0).int(0).int(0);
      w.int(number ? 0 : 873).u8(number ? 0 : 1).int(number ? 22 : 4000).int(0);
      w.u8(1).u8(0).int(Buffer.byteLength(name)).str(name).int(0).int(0).int(index + 1).int(0);
    });
    return w.int(0).int(0).int(0).int(0).int(0).int(0);
  }

  /** Up to `count` rows from the cursor, then the end of call (1403 once the last row is sent). */
  private rows(cursorId: number, cursor: Cursor, count: number, first: boolean): Buffer {
    const relation = cursor.relation;
    if (!relation) return this.endOfCall(cursorId, oraError(1002, 'fetch out of sequence'));
    const types = (cursor.columnTypes ??= this.columnTypes(relation));
    const w = new TtcWriter();
    const end = Math.min(relation.rows.length, cursor.position + count);
    if (end > cursor.position || first) w.u8(MSG.ROW_HEADER).u8(0).int(0).int(0).int(0).int(0).int(0).int(0);
    for (; cursor.position < end; cursor.position++) {
      w.u8(MSG.ROW_DATA);
      (relation.rows[cursor.position] as Value[]).forEach((value, index) => {
        if (value === null) w.u8(0);
        else if (types[index] === TYPE.NUMBER) w.bytesWithLength(oracleNumber(Number(value)));
        else w.str(String(value));
      });
    }
    const done = cursor.position >= relation.rows.length;
    return Buffer.concat([w.toBuffer(), this.endOfCall(cursorId, done ? oraError(NO_DATA_FOUND, 'no data found') : undefined, cursor.position)]);
  }

  /** The end of a call (base.js processErrorInfo at field version 12), with an error or none. */
  private endOfCall(cursorId: number, error?: EngineError, rowCount = 0): Buffer {
    const number = error ? Number(error.code) : 0;
    const w = new TtcWriter().u8(MSG.ERROR);
    w.int(0).int(this.sequence).int(0).int(0).int(0).int(0).int(cursorId).int(0);
    w.u8(0).u8(0).u8(0).u8(0).u8(0).u8(0);
    w.int(0).int(0).u8(0).int(0).int(0); // rowid
    w.int(0).u8(0).u8(0).int(0).int(0).int(0).int(0).int(0).int(0);
    w.int(number).int(rowCount);
    if (number !== 0 && error) w.str(`${error.message}\n`);
    return w.toBuffer();
  }
}

/** A non-negative integer in Oracle's NUMBER format: exponent byte, then base-100 digits plus one. */
function oracleNumber(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0) throw new Error(`NUMBER ${value}: only non-negative integers are emulated`);
  if (value === 0) return Buffer.from([0x80]);
  const digits: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 100)) digits.unshift(rest % 100);
  while (digits.length > 1 && digits[digits.length - 1] === 0) digits.pop();
  const exponent = Math.ceil(String(value).length / 2);
  return Buffer.from([0xc0 + exponent, ...digits.map((digit) => digit + 1)]);
}
