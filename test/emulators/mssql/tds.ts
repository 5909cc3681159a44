/**
 * TDS 7.4 framing and tokens, server side, as tedious 19 speaks them.
 * Spec: [MS-TDS] https://learn.microsoft.com/openspecs/windows_protocols/ms-tds/
 *  - 2.2.3.1 packet header; 2.2.6.4 LOGIN7; 2.2.6.5 PRELOGIN; 2.2.6.6 RPC request;
 *    2.2.6.7 SQL batch; 2.2.6.9 transaction manager request; 2.2.5.3 ALL_HEADERS;
 *  - 2.2.7 tokens: COLMETADATA 2.2.7.4, DONE 2.2.7.5, DONEINPROC 2.2.7.6, DONEPROC 2.2.7.7,
 *    ENVCHANGE 2.2.7.9, ERROR 2.2.7.10, INFO 2.2.7.13, LOGINACK 2.2.7.14, RETURNSTATUS 2.2.7.18,
 *    ROW 2.2.7.19; data types 2.2.5.4 / 2.2.5.5 (TYPE_INFO, PLP 2.2.5.2.3).
 */

export const PACKET = {
  SQL_BATCH: 0x01,
  RPC: 0x03,
  REPLY: 0x04,
  ATTENTION: 0x06,
  TRANSACTION_MANAGER: 0x0e,
  LOGIN7: 0x10,
  PRELOGIN: 0x12,
} as const;

/** 2.2.3.1.2: status bit "end of message". */
const EOM = 0x01;
const HEADER = 8;

export interface Message {
  type: number;
  payload: Buffer;
}

/** Splits the socket's bytes into packets and packets into messages (all packets up to EOM). */
export class MessageReader {
  private buffered: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];

  /** Feeds bytes; returns the messages they complete. Throws on a malformed packet. */
  push(chunk: Buffer): Message[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const messages: Message[] = [];
    while (this.buffered.length >= HEADER) {
      const length = this.buffered.readUInt16BE(2);
      // A length below the header (TLS bytes read as TDS look so) would never make progress.
      if (length < HEADER) throw new Error(`malformed TDS packet: length ${length}`);
      if (this.buffered.length < length) break;
      const type = this.buffered[0] as number;
      const status = this.buffered[1] as number;
      this.parts.push(this.buffered.subarray(HEADER, length));
      this.buffered = this.buffered.subarray(length);
      if (status & EOM) {
        messages.push({ type, payload: Buffer.concat(this.parts) });
        this.parts = [];
      }
    }
    return messages;
  }
}

/** A reply message cut into packets of at most `packetSize` bytes. */
export function framePackets(type: number, payload: Buffer, packetSize = 4096): Buffer {
  const room = packetSize - HEADER;
  const packets: Buffer[] = [];
  let packetId = 1;
  for (let start = 0; start < payload.length || packets.length === 0; start += room) {
    const body = payload.subarray(start, start + room);
    const last = start + room >= payload.length;
    const header = Buffer.alloc(HEADER);
    header[0] = type;
    header[1] = last ? EOM : 0;
    header.writeUInt16BE(HEADER + body.length, 2);
    header.writeUInt16BE(0, 4);
    header[6] = packetId++ % 256;
    packets.push(header, body);
  }
  return Buffer.concat(packets);
}

const ucs2 = (text: string) => Buffer.from(text, 'utf16le');

function bVarchar(text: string): Buffer {
  const bytes = ucs2(text);
  return Buffer.concat([Buffer.from([text.length]), bytes]);
}

function usVarchar(text: string): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16LE(text.length);
  return Buffer.concat([length, ucs2(text)]);
}

/** 2.2.7.5: DONE status bits. */
export const DONE = { FINAL: 0x00, MORE: 0x01, ERROR: 0x02, INXACT: 0x04, COUNT: 0x10, ATTN: 0x20 } as const;
/** DONE curCmd of a SELECT. */
export const CMD_SELECT = 0xc1;

/** The LCID/flags/sort id of Latin1_General_CI_AS (2.2.5.1.2), sent with every NVARCHAR column. */
export const DEFAULT_COLLATION = Buffer.from([0x09, 0x04, 0xd0, 0x00, 0x34]);

export type ColumnType = 'int' | 'nvarchar' | 'bit';

/** A reply being written, token after token. */
export class TokenWriter {
  private readonly parts: Buffer[] = [];

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }

  private token(bytes: Buffer): void {
    this.parts.push(bytes);
  }

  /** 2.2.7.9: ENVCHANGE with B_VARCHAR values (database, language, packet size). */
  envchangeText(type: number, next: string, previous: string): void {
    const body = Buffer.concat([Buffer.from([type]), bVarchar(next), bVarchar(previous)]);
    this.envchange(body);
  }

  /** 2.2.7.9: ENVCHANGE with B_VARBYTE values (collation 7, transactions 8/9/10). */
  envchangeBytes(type: number, next: Buffer, previous: Buffer): void {
    this.envchange(Buffer.concat([Buffer.from([type, next.length]), next, Buffer.from([previous.length]), previous]));
  }

  private envchange(body: Buffer): void {
    const head = Buffer.alloc(3);
    head[0] = 0xe3;
    head.writeUInt16LE(body.length, 1);
    this.token(Buffer.concat([head, body]));
  }

  /** 2.2.7.14: LOGINACK; the TDS version is big-endian there. */
  loginAck(program: string): void {
    const body = Buffer.concat([Buffer.from([0x01, 0x74, 0x00, 0x00, 0x04]), bVarchar(program), Buffer.from([16, 0, 0x03, 0xe8])]);
    const head = Buffer.alloc(3);
    head[0] = 0xad;
    head.writeUInt16LE(body.length, 1);
    this.token(Buffer.concat([head, body]));
  }

  /** 2.2.7.10 / 2.2.7.13: ERROR (0xAA) or INFO (0xAB). */
  message(kind: 'error' | 'info', number: number, state: number, severity: number, text: string, server: string, procedure = '', line = 1): void {
    const fixed = Buffer.alloc(6);
    fixed.writeInt32LE(number, 0);
    fixed[4] = state;
    fixed[5] = severity;
    const lineBytes = Buffer.alloc(4);
    lineBytes.writeInt32LE(line);
    const body = Buffer.concat([fixed, usVarchar(text), bVarchar(server), bVarchar(procedure), lineBytes]);
    const head = Buffer.alloc(3);
    head[0] = kind === 'error' ? 0xaa : 0xab;
    head.writeUInt16LE(body.length, 1);
    this.token(Buffer.concat([head, body]));
  }

  /** 2.2.7.4: COLMETADATA. NVARCHAR columns are nvarchar(4000) (8000 bytes), INT columns INTN(4). */
  columns(columns: readonly { name: string; type: ColumnType }[]): void {
    const parts: Buffer[] = [Buffer.from([0x81, columns.length & 0xff, columns.length >> 8])];
    for (const column of columns) {
      parts.push(Buffer.from([0, 0, 0, 0, 0x09, 0x00])); // UserType, Flags (nullable)
      if (column.type === 'int') parts.push(Buffer.from([0x26, 4]));
      else if (column.type === 'bit') parts.push(Buffer.from([0x68, 1]));
      else parts.push(Buffer.from([0xe7, 0x40, 0x1f]), DEFAULT_COLLATION);
      parts.push(bVarchar(column.name));
    }
    this.token(Buffer.concat(parts));
  }

  /** 2.2.7.19: ROW; every value as its column's type (NULL as the type's null length). */
  row(types: readonly ColumnType[], values: readonly (string | number | boolean | null)[]): void {
    const parts: Buffer[] = [Buffer.from([0xd1])];
    types.forEach((type, i) => {
      const value = values[i] ?? null;
      if (type === 'int') {
        if (value === null) parts.push(Buffer.from([0]));
        else {
          const bytes = Buffer.alloc(5);
          bytes[0] = 4;
          bytes.writeInt32LE(Number(value), 1);
          parts.push(bytes);
        }
      } else if (type === 'bit') parts.push(value === null ? Buffer.from([0]) : Buffer.from([1, value ? 1 : 0]));
      else if (value === null) parts.push(Buffer.from([0xff, 0xff]));
      else {
        const bytes = ucs2(String(value));
        if (bytes.length > 8000) throw new Error('a value longer than nvarchar(4000) needs PLP, which this emulator does not write');
        const length = Buffer.alloc(2);
        length.writeUInt16LE(bytes.length);
        parts.push(length, bytes);
      }
    });
    this.token(Buffer.concat(parts));
  }

  /** 2.2.7.18: RETURNSTATUS. */
  returnStatus(value: number): void {
    const bytes = Buffer.alloc(5);
    bytes[0] = 0x79;
    bytes.writeInt32LE(value, 1);
    this.token(bytes);
  }

  /** 2.2.7.5-7: DONE (0xFD), DONEPROC (0xFE), DONEINPROC (0xFF). */
  done(kind: 'done' | 'proc' | 'inproc', status: number, command = 0, rows = 0): void {
    const bytes = Buffer.alloc(13);
    bytes[0] = kind === 'done' ? 0xfd : kind === 'proc' ? 0xfe : 0xff;
    bytes.writeUInt16LE(status, 1);
    bytes.writeUInt16LE(command, 3);
    bytes.writeBigUInt64LE(BigInt(rows), 5);
    this.token(bytes);
  }
}

/** 2.2.6.5: the PRELOGIN reply: version 16.0.1000, the given encryption, no instance, no MARS. */
export function preloginReply(encryption: number): Buffer {
  // Options: VERSION(0) ENCRYPTION(1) INSTOPT(2) THREADID(3) MARS(4), terminator 0xFF, then data.
  const table = Buffer.from([0x00, 0, 26, 0, 6, 0x01, 0, 32, 0, 1, 0x02, 0, 33, 0, 1, 0x03, 0, 34, 0, 0, 0x04, 0, 34, 0, 1, 0xff]);
  const data = Buffer.from([16, 0, 0x03, 0xe8, 0, 0, encryption, 0x00, 0x00]);
  return Buffer.concat([table, data]);
}

/** The ENCRYPTION option a client's PRELOGIN asked for (0 off, 1 on, 2 not supported, 3 required). */
export function preloginEncryption(payload: Buffer): number | undefined {
  for (let i = 0; i + 5 <= payload.length && payload[i] !== 0xff; i += 5) {
    if (payload[i] === 0x01) return payload[payload.readUInt16BE(i + 1)];
  }
  return undefined;
}

export interface Login7 {
  tdsVersion: number;
  packetSize: number;
  user: string;
  password: string;
  appName: string;
  database: string;
  /** A federated-authentication token from the FEDAUTH feature extension, if any. */
  federatedToken?: string;
}

/** 2.2.6.4: the fields of LOGIN7 this emulator uses; the password de-obfuscated. */
export function parseLogin7(payload: Buffer): Login7 {
  const field = (offsetAt: number): string => {
    const offset = payload.readUInt16LE(offsetAt);
    const chars = payload.readUInt16LE(offsetAt + 2);
    return payload.subarray(offset, offset + chars * 2).toString('utf16le');
  };
  const passwordOffset = payload.readUInt16LE(44);
  const passwordBytes = Buffer.from(payload.subarray(passwordOffset, passwordOffset + payload.readUInt16LE(46) * 2));
  // "each byte is XORed with 0xA5 after its high and low four bits were swapped" (2.2.6.4).
  for (let i = 0; i < passwordBytes.length; i++) {
    const byte = (passwordBytes[i] as number) ^ 0xa5;
    passwordBytes[i] = ((byte & 0x0f) << 4) | (byte >> 4);
  }
  const login: Login7 = {
    tdsVersion: payload.readUInt32LE(4),
    packetSize: payload.readUInt32LE(8),
    user: field(40),
    password: passwordBytes.toString('utf16le'),
    appName: field(48),
    database: field(68),
  };
  // OptionFlags3 bit 0x10 (fExtension): ibExtension points at a u32 offset of the FeatureExt block.
  if (((payload[27] as number) & 0x10) !== 0) {
    const pointer = payload.readUInt16LE(56);
    let at = payload.readUInt32LE(pointer);
    while (at < payload.length && payload[at] !== 0xff) {
      const feature = payload[at] as number;
      const length = payload.readUInt32LE(at + 1);
      // 2.2.6.4 FEDAUTH (0x02), library SECURITYTOKEN (0x01 << 1): u32 token length, token.
      if (feature === 0x02 && (((payload[at + 5] as number) >> 1) & 0x7f) === 0x01) {
        const tokenLength = payload.readUInt32LE(at + 6);
        login.federatedToken = payload.subarray(at + 10, at + 10 + tokenLength).toString('utf16le');
      }
      at += 5 + length;
    }
  }
  return login;
}

/** 2.2.5.3: skips ALL_HEADERS, returning the transaction descriptor it carried and the rest. */
export function splitAllHeaders(payload: Buffer): { descriptor: Buffer | undefined; body: Buffer } {
  const total = payload.readUInt32LE(0);
  let descriptor: Buffer | undefined;
  for (let at = 4; at < total; ) {
    const length = payload.readUInt32LE(at);
    if (payload.readUInt16LE(at + 4) === 0x0002) descriptor = payload.subarray(at + 6, at + 14);
    at += length;
  }
  return { descriptor, body: payload.subarray(total) };
}

export type ParamValue = string | number | boolean | Buffer | null;

export interface RpcCall {
  /** The procedure: its name, or the special procedure's name for a ProcID (10 = sp_executesql). */
  procedure: string;
  parameters: { name: string; value: ParamValue; output: boolean }[];
}

/** 2.2.6.6, the ProcIDs tedious sends: 10 is sp_executesql, 12 sp_prepexec... */
const SPECIAL_PROCEDURES: Record<number, string> = { 10: 'sp_executesql', 11: 'sp_prepare', 12: 'sp_execute', 13: 'sp_prepexec', 15: 'sp_unprepare' };

/** 2.2.6.6: an RPC request (one call; batched calls are not used by tedious). */
export function parseRpc(body: Buffer): RpcCall {
  let at = 0;
  let procedure: string;
  const nameLength = body.readUInt16LE(at);
  at += 2;
  if (nameLength === 0xffff) {
    const id = body.readUInt16LE(at);
    at += 2;
    procedure = SPECIAL_PROCEDURES[id] ?? `procid ${id}`;
  } else {
    procedure = body.subarray(at, at + nameLength * 2).toString('utf16le');
    at += nameLength * 2;
  }
  at += 2; // option flags
  const parameters: RpcCall['parameters'] = [];
  while (at < body.length) {
    const nameChars = body[at] as number;
    const name = body.subarray(at + 1, at + 1 + nameChars * 2).toString('utf16le');
    at += 1 + nameChars * 2;
    const status = body[at] as number;
    at += 1;
    const { value, end } = readTypedValue(body, at);
    at = end;
    parameters.push({ name, value, output: (status & 0x01) !== 0 });
  }
  return { procedure, parameters };
}

/** 2.2.5.4-5: TYPE_INFO then the value, for the types tedious sends for strings, numbers, booleans. */
function readTypedValue(body: Buffer, start: number): { value: ParamValue; end: number } {
  const type = body[start] as number;
  let at = start + 1;
  switch (type) {
    case 0x26: // INTN
    case 0x68: {
      // BITN
      at += 1; // max length
      const length = body[at] as number;
      at += 1;
      if (length === 0) return { value: null, end: at };
      const value =
        length === 1 ? (body[at] as number) : length === 2 ? body.readInt16LE(at) : length === 4 ? body.readInt32LE(at) : Number(body.readBigInt64LE(at));
      return { value: type === 0x68 ? value !== 0 : value, end: at + length };
    }
    case 0xe7: // NVARCHAR
    case 0xef: // NCHAR
    case 0xa7: // BIGVARCHAR
    case 0xaf: // BIGCHAR
    case 0xa5: {
      // BIGVARBINARY
      const maxLength = body.readUInt16LE(at);
      at += 2;
      if (type !== 0xa5) at += 5; // collation
      const decode = (bytes: Buffer): ParamValue => (type === 0xa5 ? Buffer.from(bytes) : bytes.toString(type === 0xe7 || type === 0xef ? 'utf16le' : 'latin1'));
      if (maxLength === 0xffff) return readPlp(body, at, decode);
      const length = body.readUInt16LE(at);
      at += 2;
      if (length === 0xffff) return { value: null, end: at };
      return { value: decode(body.subarray(at, at + length)), end: at + length };
    }
    default:
      throw new Error(`RPC parameter of TDS type 0x${type.toString(16)} is not supported by this emulator`);
  }
}

/** 2.2.5.2.3: a PLP value: u64 total (all ones = NULL), chunks of u32 length, a zero terminator. */
function readPlp(body: Buffer, start: number, decode: (bytes: Buffer) => ParamValue): { value: ParamValue; end: number } {
  let at = start;
  const total = body.readBigUInt64LE(at);
  at += 8;
  if (total === 0xffffffffffffffffn) return { value: null, end: at };
  const chunks: Buffer[] = [];
  for (;;) {
    const length = body.readUInt32LE(at);
    at += 4;
    if (length === 0) break;
    chunks.push(body.subarray(at, at + length));
    at += length;
  }
  return { value: decode(Buffer.concat(chunks)), end: at };
}

/** 2.2.6.9 / 2.2.7.9: the transaction manager requests tedious sends, and their ENVCHANGE types. */
export const TM = { BEGIN: 5, COMMIT: 7, ROLLBACK: 8 } as const;
export const ENV = { DATABASE: 1, LANGUAGE: 2, PACKET_SIZE: 4, COLLATION: 7, BEGIN_TRAN: 8, COMMIT_TRAN: 9, ROLLBACK_TRAN: 10 } as const;
